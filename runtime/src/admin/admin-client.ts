import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { AdminEvent, AdminProgress, AdminReply } from '@elastos/protocol/admin/protocol';
import { ElastosError, isErrorCode } from '../errors/index.js';

export interface AdminCallOptions {
  /** Give up after this long without an answer or a progress line (0, the default: wait). */
  timeoutMs?: number;
  /** Progress lines of a long command (audit verify, capsule install). */
  onProgress?: (done: number, total: number) => void;
  /** Event lines of a subscription (`audit.tail` with `follow`): the call ends when the connection does. */
  onEvent?: (event: unknown) => void;
}

interface Pending {
  settle(reply: AdminReply): void;
  progress(done: number, total: number): void;
  event(event: unknown): void;
}

/** The CLI's side of the admin socket: one request at a time, replies matched by id. */
export class AdminClient {
  private nextId = 1;
  private closed = false;
  /** Calls in flight by id: how each ends (its reply) and what its progress lines do meanwhile. */
  private readonly waiting = new Map<number, Pending>();
  /** Set when the runtime refused the connection (id 0), possibly before any request was sent. */
  private refused: AdminReply | undefined;

  private constructor(private readonly socket: Socket) {
    const lines = createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => this.onLine(line));
    socket.on('error', () => {}); // 'close' follows and fails what waits
    socket.on('close', () => {
      this.closed = true;
      this.failAll(new ElastosError('E_DAEMON_UNREACHABLE', 'the runtime closed the connection'));
    });
  }

  static connect(path: string, timeoutMs = 5000): Promise<AdminClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ElastosError('E_DAEMON_UNREACHABLE', `no answer on ${path}`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new AdminClient(socket));
      });
      socket.once('error', (cause: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // The socket's mode (0660, admin group) keeps others out before the runtime's own check.
        if (cause.code === 'EACCES' || cause.code === 'EPERM') {
          reject(new ElastosError('E_ADMIN_DENIED', `permission denied on ${path}: not in the admin group`, { cause }));
          return;
        }
        reject(
          new ElastosError('E_DAEMON_UNREACHABLE', `cannot reach the runtime at ${path}: ${cause.message}`, { cause }),
        );
      });
    });
  }

  /**
   * One command. `timeoutMs` (0: none) bounds the wait for the answer, so that a wedged runtime
   * gives the admin `E_TIMEOUT` rather than a terminal that hangs; each progress line restarts
   * it (the runtime is working). The command itself may still finish.
   */
  call(cmd: string, args: Record<string, unknown> = {}, options: AdminCallOptions = {}): Promise<unknown> {
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? 0;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        if (timeoutMs <= 0) return;
        timer = setTimeout(() => {
          this.waiting.delete(id);
          reject(new ElastosError('E_TIMEOUT', `the runtime did not answer ${cmd} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
      };
      const settle = (reply: AdminReply) => {
        clearTimeout(timer);
        if (reply.ok) resolve(reply.result);
        else
          reject(
            new ElastosError(
              isErrorCode(reply.error.code) ? reply.error.code : 'E_ADMIN_PROTOCOL',
              reply.error.message,
            ),
          );
      };
      if (this.refused) return settle(this.refused);
      if (this.closed) return reject(new ElastosError('E_DAEMON_UNREACHABLE', 'the runtime closed the connection'));
      this.waiting.set(id, {
        settle,
        progress: (done, total) => {
          arm();
          options.onProgress?.(done, total);
        },
        event: (event) => {
          arm();
          options.onEvent?.(event);
        },
      });
      arm();
      this.socket.write(`${JSON.stringify({ id, cmd, args })}\n`);
    });
  }

  close(): void {
    this.socket.end();
  }

  private onLine(line: string): void {
    let reply: AdminReply;
    try {
      reply = JSON.parse(line) as AdminReply;
    } catch {
      this.failAll(new ElastosError('E_ADMIN_PROTOCOL', 'the runtime sent a line that is not JSON'));
      return;
    }
    if (typeof reply !== 'object' || reply === null) {
      this.failAll(new ElastosError('E_ADMIN_PROTOCOL', 'the runtime sent a line that is not an object'));
      return;
    }
    if ('event' in reply) {
      this.waiting.get(reply.id)?.event((reply as AdminEvent).event);
      return;
    }
    const p = (reply as Partial<AdminProgress>).progress;
    if (p !== undefined) {
      const done = Number(p?.done);
      const total = Number(p?.total);
      if (Number.isFinite(done) && Number.isFinite(total)) this.waiting.get(reply.id)?.progress(done, total);
      return;
    }
    // id 0: the runtime refused the connection before any request (e.g. E_ADMIN_DENIED).
    if (reply.id === 0 && !reply.ok) this.refused = reply;
    const target = reply.id === 0 ? [...this.waiting.keys()] : [reply.id];
    for (const id of target) {
      this.waiting.get(id)?.settle(reply);
      this.waiting.delete(id);
    }
  }

  private failAll(err: ElastosError): void {
    const reply = this.refused ?? { id: 0, ok: false, error: err.toJSON() };
    for (const { settle } of this.waiting.values()) settle(reply);
    this.waiting.clear();
  }
}
