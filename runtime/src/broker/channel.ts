/**
 * One capsule's IPC channel (runtime/spec/ipc.md): the runtime's end of its fd 3. The capsule
 * id comes from whoever attached the socket (the supervisor), never from a message. Writes
 * made in one tick go out as one buffer; inbound frames are parsed, throttled and validated.
 */
import type { Socket } from 'node:net';
import { encodeFrames, FrameDecoder } from '@elastos/protocol/ipc/frame';
import { REQUEST_OPS, type ReqMessage, type ResMessage, validate } from '@elastos/protocol/ipc/messages';
import { asElastosError, ElastosError, type ErrorCode, isErrorCode } from '../errors/index.js';
import { DEFAULT_OUTPUT_QUOTA, OutputGate, type OutputQuota } from './output-gate.js';
import { Throttle, type ThrottleOptions } from './throttle.js';

export interface ChannelHandlers {
  /** A validated request; its reply is the promise's value (or its coded error). */
  request(ch: Channel, msg: ReqMessage): Promise<unknown>;
  /** A shell event (`t: evt`). */
  event(ch: Channel, msg: Record<string, unknown>): void;
  /** The channel is gone; `code` says why (undefined: the capsule closed it). */
  closed(ch: Channel, code: ErrorCode | undefined, why: string): void;
  /** Flow-control trouble worth an audit record. */
  throttled(ch: Channel, why: string): void;
}

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (err: ElastosError) => void;
  deadline: number;
  timeoutMs: number;
}

export const THROTTLE_PAUSE_MS = 20;

/** A capsule's coded error as the runtime relays it; an unknown code becomes E_INTERNAL. */
function remoteError(e: ResMessage['error']): ElastosError {
  const message = e?.message ?? 'the capsule answered with an error';
  return new ElastosError(isErrorCode(e?.code) ? e.code : 'E_INTERNAL', message);
}
/** Call deadlines are swept on this period: one timer per channel instead of one per call. */
export const SWEEP_MS = 100;

export class Channel {
  readonly actor: string;
  private readonly decoder: FrameDecoder;
  private readonly throttle: Throttle;
  private readonly gate: OutputGate;
  private readonly calls = new Map<number, PendingCall>();
  private out: string[] = [];
  private nextCall = 1;
  private stopped = false;
  private paused = false;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly id: string,
    private readonly socket: Socket,
    private readonly handlers: ChannelHandlers,
    options: ThrottleOptions & { maxFrameBytes: number } & Partial<OutputQuota>,
  ) {
    this.actor = `capsule:${id}`;
    this.decoder = new FrameDecoder(options.maxFrameBytes);
    this.throttle = new Throttle(options);
    this.gate = new OutputGate(
      socket,
      { ...DEFAULT_OUTPUT_QUOTA, ...options },
      {
        blocked: () => handlers.throttled(this, 'output over its quota: reading paused until the capsule drains'),
        drained: () => this.resume(),
        stalled: () => this.stop('E_IPC_STALLED', 'the capsule does not read its channel: stopped'),
      },
    );
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.stop(undefined, 'socket error'));
    socket.on('close', () => this.stop(undefined, 'closed by the capsule'));
  }

  get isOpen(): boolean {
    return !this.stopped;
  }

  /** Queues a message; everything queued in one tick leaves in one write. */
  send(msg: object): void {
    if (this.stopped) return;
    if (this.out.push(JSON.stringify(msg)) === 1) process.nextTick(() => this.flush());
  }

  /** A call to this capsule (a provider or the shell); rejects with E_TIMEOUT after `timeoutMs`. */
  call(msg: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    if (this.stopped) return Promise.reject(new ElastosError('E_BROKER_NO_PROVIDER', `${this.id} is stopped`));
    const id = this.nextCall++;
    this.sweeper ??= setInterval(() => this.sweep(), SWEEP_MS);
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject, deadline: performance.now() + timeoutMs, timeoutMs });
      this.send({ t: 'call', id, ...msg });
    });
  }

  /** Fails the calls past their deadline; stops sweeping when none is left. */
  private sweep(): void {
    const now = performance.now();
    for (const [id, c] of this.calls) {
      if (c.deadline > now) continue;
      this.calls.delete(id);
      c.reject(new ElastosError('E_TIMEOUT', `${this.id} did not answer in ${c.timeoutMs} ms`));
    }
    if (this.calls.size === 0) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Closes the channel for good; pending calls fail. The supervisor stops the process. */
  stop(code: ErrorCode | undefined, why: string): void {
    if (this.stopped) return;
    this.flush();
    this.stopped = true;
    clearInterval(this.sweeper);
    this.gate.close();
    for (const [, c] of this.calls) {
      c.reject(new ElastosError('E_BROKER_NO_PROVIDER', `${this.id} went away`));
    }
    this.calls.clear();
    this.socket.end();
    this.socket.destroy();
    this.handlers.closed(this, code, why);
  }

  private flush(): void {
    if (this.out.length === 0 || this.stopped) return;
    const bodies = this.out;
    this.out = [];
    this.socket.write(encodeFrames(bodies));
    this.gate.wrote();
  }

  /** Reads again, unless the throttle or the output gate still holds them. */
  private resume(): void {
    if (!this.stopped && !this.paused && !this.gate.blocked) this.socket.resume();
  }

  private onData(chunk: Buffer): void {
    try {
      this.decoder.push(chunk, (body) => this.onBody(body));
    } catch (err) {
      const e = asElastosError(err);
      this.stop(e.code, e.message);
    }
  }

  private onBody(body: Buffer): void {
    if (this.stopped) return;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(body.toString('utf8'));
      if (typeof msg !== 'object' || msg === null) throw new Error('not an object');
    } catch {
      this.garbage(undefined, new ElastosError('E_IPC_SCHEMA', 'frame body is not a JSON object'));
      return;
    }
    if (msg.t === 'req') this.onRequest(msg);
    else if (msg.t === 'res') this.onReply(msg);
    else if (msg.t === 'evt') this.guard(msg, () => this.handlers.event(this, validate('evt', msg)));
    else this.garbage(msg.id, new ElastosError('E_IPC_SCHEMA', 'unknown message type'));
  }

  private onRequest(msg: Record<string, unknown>): void {
    const id = msg.id;
    if (!this.throttle.admit()) {
      this.reply(id, asElastosError(new ElastosError('E_IPC_THROTTLED', 'too many requests')));
      if (this.throttle.strike()) this.stop('E_IPC_THROTTLED', 'flooding: stopped');
      else this.pause();
      return;
    }
    let req: ReqMessage;
    try {
      const op = msg.op as ReqMessage['op'];
      if (!REQUEST_OPS.includes(op)) throw new ElastosError('E_IPC_SCHEMA', 'unknown op');
      req = validate<ReqMessage>(op, msg);
    } catch (err) {
      this.throttle.done();
      this.garbage(id, asElastosError(err));
      return;
    }
    this.handlers.request(this, req).then(
      (result) => {
        this.throttle.done();
        this.send({ t: 'res', id: req.id, ok: true, result: result ?? null });
      },
      (err) => {
        this.throttle.done();
        this.reply(req.id, asElastosError(err));
      },
    );
  }

  private onReply(msg: Record<string, unknown>): void {
    this.guard(msg, () => {
      const res = validate<ResMessage>('res', msg);
      const call = this.calls.get(res.id);
      if (!call) throw new ElastosError('E_IPC_SCHEMA', `reply to unknown call ${res.id}`);
      this.calls.delete(res.id);
      if (res.ok) call.resolve(res.result);
      else call.reject(remoteError(res.error));
    });
  }

  private guard(msg: Record<string, unknown>, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.garbage(msg.id, asElastosError(err));
    }
  }

  private reply(id: unknown, e: ElastosError): void {
    if (typeof id === 'number') this.send({ t: 'res', id, ok: false, error: e.toJSON() });
  }

  /** Garbage is answered (when it has an id) and counted; too much stops the channel. */
  private garbage(id: unknown, e: ElastosError): void {
    this.reply(id, e);
    if (this.throttle.strike()) this.stop('E_IPC_THROTTLED', `garbage: stopped (${e.code})`);
  }

  /** Stops reading for a moment: the kernel's buffer fills and the capsule blocks on write. */
  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
    this.handlers.throttled(this, 'request rate over its limit');
    setTimeout(() => {
      this.paused = false;
      this.resume();
    }, THROTTLE_PAUSE_MS).unref();
  }
}
