/**
 * The capsule's one channel to the world: its fd 3, connected to the broker
 * (runtime/spec/ipc.md). Requests go out as `req` and come back as `res`; the runtime's calls
 * to this capsule (provider invokes, shell decisions) arrive as `call` and are answered with
 * `res`. Writes made in one tick leave in one write.
 */
import { Socket } from 'node:net';
import { asCapsuleError, CapsuleError } from './errors.js';
import { encodeFrames, FrameReader, MAX_OUT_BODY } from './frame.js';

/** A call from the runtime: `op` is `invoke` for providers, `decide`/`requests`/`approve`/`deny` for the shell. */
export interface RuntimeCall {
  op: string;
  [field: string]: unknown;
}

export type CallHandler = (call: RuntimeCall) => unknown;

interface Waiter {
  resolve: (value: unknown) => void;
  reject: (err: CapsuleError) => void;
}

export interface LinkOptions {
  /** The inherited descriptor of the channel (3 under the supervisor). */
  fd?: number;
  /** Give up on a request after this long (the broker has its own, shorter, timeouts). */
  timeoutMs?: number;
}

export class Link {
  private readonly socket: Socket;
  private readonly reader = new FrameReader();
  private readonly waiting = new Map<number, Waiter>();
  private out: string[] = [];
  private nextId = 1;
  private handler: CallHandler | undefined;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly closeListeners: Array<() => void> = [];

  constructor(options: LinkOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 600_000;
    this.socket = new Socket({ fd: options.fd ?? 3, readable: true, writable: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', () => this.close());
    this.socket.on('close', () => this.close());
  }

  /** Handles the runtime's calls; the handler's value (or its CapsuleError) is the answer. */
  onCall(handler: CallHandler): void {
    this.handler = handler;
  }

  /** Runs when the runtime closes the channel (the capsule should then exit). */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** One request (`request-capability`, `invoke`, `delegate`); rejects with the runtime's code. */
  request(op: string, fields: Record<string, unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(new CapsuleError('E_DAEMON_UNREACHABLE', 'the IPC channel is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new CapsuleError('E_TIMEOUT', `${op} got no answer in ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      timer.unref();
      const done = (fn: () => void) => {
        clearTimeout(timer);
        fn();
      };
      this.waiting.set(id, {
        resolve: (v) => done(() => resolve(v)),
        reject: (e) => done(() => reject(e)),
      });
      this.send({ t: 'req', id, op, ...fields });
    });
  }

  /** An event to the runtime (only the shell sends them: `resolved` for an earlier ask). */
  event(op: string, fields: Record<string, unknown>): void {
    this.send({ t: 'evt', op, ...fields });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const [, w] of this.waiting) w.reject(new CapsuleError('E_DAEMON_UNREACHABLE', 'the IPC channel closed'));
    this.waiting.clear();
    this.socket.destroy();
    for (const l of this.closeListeners) l();
  }

  private send(msg: object): void {
    if (this.closed) return;
    if (this.out.push(JSON.stringify(msg)) === 1) process.nextTick(() => this.flush());
  }

  private flush(): void {
    const bodies = this.out;
    this.out = [];
    if (bodies.length === 0 || this.closed) return;
    this.socket.write(encodeFrames(bodies));
  }

  private onData(chunk: Buffer): void {
    try {
      this.reader.push(chunk, (body) => this.onBody(JSON.parse(body.toString('utf8')) as Record<string, unknown>));
    } catch {
      // A runtime that breaks framing cannot be talked to any more.
      this.close();
    }
  }

  private onBody(msg: Record<string, unknown>): void {
    if (msg.t === 'res') {
      const w = this.waiting.get(msg.id as number);
      if (!w) return;
      this.waiting.delete(msg.id as number);
      if (msg.ok === true) w.resolve(msg.result);
      else w.reject(asCapsuleError(msg.error));
      return;
    }
    if (msg.t === 'call') this.answer(msg);
  }

  private answer(msg: Record<string, unknown>): void {
    const id = msg.id;
    const { t: _t, id: _id, ...call } = msg;
    Promise.resolve()
      .then(() => {
        if (!this.handler) throw new CapsuleError('E_BROKER_NO_PROVIDER', 'this capsule serves no calls');
        return this.handler(call as RuntimeCall);
      })
      .then(
        (result) => this.reply({ t: 'res', id, ok: true, result: result ?? null }),
        (err) => this.reply({ t: 'res', id, ok: false, error: asCapsuleError(err).toJSON() }),
      );
  }

  /** A result too large for one frame is answered with E_IPC_FRAME instead of breaking the channel. */
  private reply(msg: { t: 'res'; id: unknown; ok: boolean; result?: unknown; error?: object }): void {
    const body = JSON.stringify(msg);
    if (Buffer.byteLength(body) <= MAX_OUT_BODY) {
      this.send(msg);
      return;
    }
    const error = { code: 'E_IPC_FRAME', message: 'the answer is larger than one frame: stream it' };
    this.send({ t: 'res', id: msg.id, ok: false, error });
  }
}
