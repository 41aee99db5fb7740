import { chmodSync, chownSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import {
  type AdminEvent,
  type AdminProgress,
  type AdminReply,
  MAX_ADMIN_LINE,
  parseAdminRequest,
} from '@elastos/protocol/admin/protocol';
import type { AuditEvent, AuditSink } from '../audit/audit-sink.js';
import { asElastosError, ElastosError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { type AdminPeer, loadPeerCred, peerCredOf } from './peer-cred.js';

/** What a handler may do besides answering: report progress on long work (sent as progress lines). */
export interface AdminCallContext {
  progress(done: number, total: number): void;
  /** A subscription's item (an event line); dropped once the connection is gone. */
  event(data: unknown): void;
  /** Resolves when the client's connection closes: a subscription's handler returns then. */
  readonly closed: Promise<void>;
}

export type AdminHandler = (
  args: Record<string, unknown>,
  peer: AdminPeer,
  call: AdminCallContext,
) => Promise<unknown> | unknown;

/** At most this often a progress line per call (the first always goes out). */
const PROGRESS_EVERY_MS = 100;
/** A subscriber this far behind (bytes queued on its socket) is cut off rather than buffered without end. */
const MAX_BEHIND_BYTES = 8 << 20;

/** Decides whether a peer (credentials from the kernel) may administer the box; throws E_ADMIN_DENIED if not. */
export type PeerPolicy = (peer: AdminPeer) => void;

export interface AdminServerOptions {
  /** Group owner of the socket (the admin group's gid); the socket is mode 0660. */
  socketGid?: number;
  /** Where `admin.command` and `admin.denied` events go (runtime/spec/admin.md §Audit). */
  audit?: AuditSink;
}

export interface RegisterOptions {
  /** false for pure reads polled by monitors (status, health): logged, not audited. Default true. */
  audit?: boolean;
}

interface Entry {
  handler: AdminHandler;
  audit: boolean;
}

/** A unix-socket server of admin commands; each subsystem registers its commands by name. */
export class AdminServer {
  private readonly handlers = new Map<string, Entry>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private audit: AuditSink | undefined;

  constructor(
    private readonly path: string,
    private readonly log: Logger,
    private readonly authorize: PeerPolicy,
    private readonly options: AdminServerOptions = {},
  ) {
    this.audit = options.audit;
  }

  register(cmd: string, handler: AdminHandler, options: RegisterOptions = {}): void {
    if (this.handlers.has(cmd)) throw new RangeError(`admin command ${cmd} registered twice`);
    this.handlers.set(cmd, { handler, audit: options.audit !== false });
  }

  /** Plugs the audit trail in when it starts after the admin socket. */
  useAudit(sink: AuditSink): void {
    this.audit = sink;
  }

  async listen(): Promise<void> {
    loadPeerCred(); // E_SETUP_REQUIRED now rather than a refusal on every connection
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
    rmSync(this.path, { force: true });
    const server = createServer((socket) => this.serve(socket));
    const umask = process.umask(0o177); // born 0600: no window in which others may connect
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.path, () => resolve());
      });
    } finally {
      process.umask(umask);
    }
    if (this.options.socketGid !== undefined) {
      try {
        chownSync(this.path, process.getuid?.() ?? 0, this.options.socketGid);
      } catch (err) {
        this.log.warn({ err, gid: this.options.socketGid }, 'cannot give the admin socket to the admin group');
      }
    }
    chmodSync(this.path, 0o660);
    this.server = server;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let peer: AdminPeer | undefined;
    try {
      peer = peerCredOf(socket);
      this.authorize(peer);
    } catch (err) {
      void this.refuse(socket, asElastosError(err), peer);
      return;
    }
    const known = peer;
    const lines = createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY });
    const send = (message: object) => {
      if (socket.destroyed) return;
      if (socket.writableLength > MAX_BEHIND_BYTES) socket.destroy();
      else socket.write(`${JSON.stringify(message)}\n`);
    };
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    lines.on('line', (line) => {
      void this.answer(line, known, send, closed).then(send);
    });
  }

  /** A refused connection: logged and audited with the peer's uid, answered with id 0, closed. */
  private async refuse(socket: Socket, e: ElastosError, peer: AdminPeer | undefined): Promise<void> {
    this.log.warn({ code: e.code, uid: peer?.uid, pid: peer?.pid }, e.message);
    const event: AuditEvent = {
      actor: `admin:${peer?.uid ?? 'unknown'}`,
      type: 'admin.denied',
      decision: 'deny',
      code: e.code,
      ...(peer ? { details: { pid: peer.pid, gid: peer.gid } } : {}),
    };
    await this.audit?.append(event).catch((err) => this.log.error({ err }, 'cannot audit a refused admin peer'));
    socket.end(`${JSON.stringify({ id: 0, ok: false, error: e.toJSON() })}\n`);
  }

  private async answer(
    line: string,
    peer: AdminPeer,
    send: (message: AdminProgress | AdminEvent) => void,
    closed: Promise<void>,
  ): Promise<AdminReply> {
    let id = 0;
    let cmd: string | undefined;
    try {
      if (line.length > MAX_ADMIN_LINE) throw new ElastosError('E_ADMIN_PROTOCOL', 'request too large');
      const request = parseAdminRequest(line);
      id = request.id;
      cmd = request.cmd;
      const entry = this.handlers.get(cmd);
      if (!entry) throw new ElastosError('E_USAGE', `unknown admin command ${cmd}`);
      // Reads are debug (monitors poll them); a change is worth a line at info.
      this.log[entry.audit ? 'info' : 'debug']({ uid: peer.uid, pid: peer.pid, cmd }, 'admin command');
      // Audited before it runs: a command that cannot be audited does not run (E_AUDIT_WRITE).
      if (entry.audit && this.audit) {
        await this.audit.append({
          actor: `admin:${peer.uid}`,
          type: 'admin.command',
          action: cmd,
          decision: 'allow',
          details: { pid: peer.pid, gid: peer.gid },
        });
      }
      const call = { ...progressSender(id, send), event: (event: unknown) => send({ id, event }), closed };
      return { id, ok: true, result: (await entry.handler(request.args, peer, call)) ?? null };
    } catch (err) {
      const e = asElastosError(err);
      if (e.code === 'E_INTERNAL') this.log.error({ err, uid: peer.uid, cmd }, 'admin command failed');
      else this.log.info({ code: e.code, uid: peer.uid, cmd }, e.message);
      return { id, ok: false, error: e.toJSON() };
    }
  }
}

/** Progress lines for call `id`, at most one per PROGRESS_EVERY_MS (a verify reports every 1000 records). */
function progressSender(id: number, send: (message: AdminProgress) => void): Pick<AdminCallContext, 'progress'> {
  let last = 0;
  return {
    progress(done, total) {
      const now = Date.now();
      if (now - last < PROGRESS_EVERY_MS && done < total) return; // the last one always goes out
      last = now;
      send({ id, progress: { done, total } });
    },
  };
}
