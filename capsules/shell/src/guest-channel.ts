/**
 * The shell capsule's end of its IPC channel (fd 3, runtime/spec/ipc.md): answers the
 * runtime's calls and sends events. The capsule SDK will replace this minimal guest.
 */
import { Socket } from 'node:net';
import { encodeFrames, FrameDecoder } from '@elastos/runtime/broker/frame';

type Handler = (msg: Record<string, unknown>) => Promise<unknown> | unknown;

export class GuestChannel {
  private readonly socket: Socket;
  private readonly decoder = new FrameDecoder(1 << 20);

  constructor(
    private readonly handler: Handler,
    fd = 3,
  ) {
    this.socket = new Socket({ fd, readable: true, writable: true });
    this.socket.on('data', (chunk: Buffer) => this.decoder.push(chunk, (body) => this.onBody(body)));
    this.socket.on('close', () => process.exit(0));
  }

  send(msg: object): void {
    this.socket.write(encodeFrames([JSON.stringify(msg)]));
  }

  private onBody(body: Buffer): void {
    const msg = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (msg.t !== 'call') return;
    Promise.resolve()
      .then(() => this.handler(msg))
      .then(
        (result) => this.send({ t: 'res', id: msg.id, ok: true, result: result ?? null }),
        (err: { code?: string; message?: string }) =>
          this.send({
            t: 'res',
            id: msg.id,
            ok: false,
            error: { code: err.code ?? 'E_INTERNAL', message: String(err.message) },
          }),
      );
  }
}
