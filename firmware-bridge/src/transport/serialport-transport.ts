import { realpathSync } from 'node:fs';
import { ElastosError } from '@elastos/protocol/errors';
import { SerialPort } from 'serialport';
import type { Transport } from './transport.js';

/**
 * A serial device (or pty) through node-serialport. An unplug shows up as EIO on the next write
 * (measured on a socat pty pair: reads report nothing), which is why the bridge probes an idle link.
 */
export class SerialPortTransport implements Transport {
  private port: SerialPort | undefined;
  private opened = '';
  private dataListener: ((chunk: Uint8Array) => void) | undefined;
  private closeListener: ((err: Error | undefined) => void) | undefined;

  constructor(
    readonly path: string,
    readonly baudRate = 115200,
  ) {}

  get isOpen(): boolean {
    return this.port?.isOpen === true;
  }

  onData(listener: (chunk: Uint8Array) => void): void {
    this.dataListener = listener;
  }

  onClose(listener: (err: Error | undefined) => void): void {
    this.closeListener = listener;
  }

  open(): Promise<void> {
    const port = new SerialPort({ path: this.path, baudRate: this.baudRate, autoOpen: false, hupcl: false });
    return new Promise((resolve, reject) => {
      port.open((err) => {
        if (err) return reject(new ElastosError('E_SERIAL_OPEN', `${this.path}: ${err.message}`, { cause: err }));
        this.port = port;
        this.opened = this.device();
        port.on('data', (chunk: Buffer) => this.dataListener?.(chunk));
        port.on('error', () => {});
        port.once('close', (e: Error | null) => {
          if (this.port === port) this.port = undefined;
          this.closeListener?.(e ?? undefined);
        });
        resolve();
      });
    });
  }

  stale(): boolean {
    return this.isOpen && this.device() !== this.opened;
  }

  private device(): string {
    try {
      return realpathSync(this.path);
    } catch {
      return '';
    }
  }

  write(data: Uint8Array): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.reject(new ElastosError('E_SERIAL_CLOSED', `${this.path} is not open`));
    return new Promise((resolve, reject) => {
      port.write(Buffer.from(data), (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): Promise<void> {
    const port = this.port;
    if (!port?.isOpen) return Promise.resolve();
    return new Promise((resolve) => port.close(() => resolve()));
  }
}
