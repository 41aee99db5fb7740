/**
 * The serial boundary (STYLE.md: hardware behind a small promise interface, as node-serialport's
 * bindings are). The bridge and the simulator see only this; `SerialPortTransport` is the real one.
 */
export interface Transport {
  /** Opens the device; rejects with E_SERIAL_OPEN. */
  open(): Promise<void>;
  /** Resolves once the OS took the bytes (the stream drained): the writer's backpressure. */
  write(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
  readonly isOpen: boolean;
  /** Bytes as they arrive. */
  onData(listener: (chunk: Uint8Array) => void): void;
  /**
   * Optional: true when the device node behind the path is no longer the one opened (a pty pair
   * recreated by a replug). Lets the simulator notice an unplug it would otherwise only see on a write.
   */
  stale?(): boolean;
  /** The device went away (unplug, EIO) or was closed. */
  onClose(listener: (err: Error | undefined) => void): void;
}
