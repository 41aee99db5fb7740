import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { asElastosError, ElastosError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { type AdminReply, MAX_ADMIN_LINE, parseAdminRequest } from './protocol.js';

/** Who is on the other end of the socket; filled from the kernel (SO_PEERCRED), never from the request. */
export interface AdminPeer {
  uid: number;
  gid: number;
  pid: number;
}

export type AdminHandler = (args: Record<string, unknown>, peer: AdminPeer) => Promise<unknown> | unknown;

/** Decides whether a connected peer may administer the box; the admin CLI issue plugs SO_PEERCRED in here. */
export type PeerCheck = (socket: Socket) => AdminPeer;

/** A unix-socket server of admin commands; each subsystem registers its commands by name. */
export class AdminServer {
  private readonly handlers = new Map<string, AdminHandler>();
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly path: string,
    private readonly log: Logger,
    private readonly peerCheck: PeerCheck,
  ) {}

  register(cmd: string, handler: AdminHandler): void {
    if (this.handlers.has(cmd)) throw new RangeError(`admin command ${cmd} registered twice`);
    this.handlers.set(cmd, handler);
  }

  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true });
    rmSync(this.path, { force: true });
    const server = createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
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
    let peer: AdminPeer;
    try {
      peer = this.peerCheck(socket);
    } catch (err) {
      const e = asElastosError(err);
      this.log.warn({ code: e.code }, e.message);
      socket.end(`${JSON.stringify({ id: 0, ok: false, error: e.toJSON() })}\n`);
      return;
    }
    const lines = createInterface({ input: socket, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      void this.answer(line, peer).then((reply) => {
        if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
      });
    });
  }

  private async answer(line: string, peer: AdminPeer): Promise<AdminReply> {
    let id = 0;
    try {
      if (line.length > MAX_ADMIN_LINE) throw new ElastosError('E_ADMIN_PROTOCOL', 'request too large');
      const request = parseAdminRequest(line);
      id = request.id;
      const handler = this.handlers.get(request.cmd);
      if (!handler) throw new ElastosError('E_USAGE', `unknown admin command ${request.cmd}`);
      return { id, ok: true, result: (await handler(request.args, peer)) ?? null };
    } catch (err) {
      const e = asElastosError(err);
      if (e.code === 'E_INTERNAL') this.log.error({ err }, 'admin command failed');
      return { id, ok: false, error: e.toJSON() };
    }
  }
}
