import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { encodeFrames } from '@elastos/protocol/ipc/frame';
import { makeTempDir } from '@elastos/testkit';
import { Channel, type ChannelHandlers } from './channel.js';
import { DEFAULT_THROTTLE } from './throttle.js';

/**
 * A capsule that sends requests and never reads its replies: the runtime's queue for it must stay
 * bounded (reads pause over the quota) and the capsule is stopped when it stays so.
 */
const REQ = { t: 'req', op: 'request-capability', audience: 'storage', resource: 'storage://x/', action: 'read' };
const BIG_REPLY = 'x'.repeat(32 * 1024);
const QUOTA = 256 * 1024;

describe('IPC output quota: a capsule that does not read its channel', function () {
  this.timeout(20_000);
  let dir: ReturnType<typeof makeTempDir>;
  let server: Server;
  let channel: Promise<{ ch: Channel; socket: Socket }>;
  const events: string[] = [];
  let closedCode: string | undefined;
  let served = 0;
  let peakQueued = 0;

  beforeEach(async () => {
    dir = makeTempDir();
    events.length = 0;
    closedCode = undefined;
    served = 0;
    peakQueued = 0;
    const handlers: ChannelHandlers = {
      request: async () => {
        served++;
        return BIG_REPLY;
      },
      event: () => undefined,
      closed: (_ch, code) => {
        closedCode = code;
      },
      throttled: (_ch, why) => events.push(why),
    };
    server = createServer();
    channel = new Promise((resolve) =>
      server.once('connection', (socket) => {
        const opts = { ...DEFAULT_THROTTLE, maxFrameBytes: 65536, outputQuotaBytes: QUOTA, stallMs: 1000 };
        resolve({ ch: new Channel('hog', socket, handlers, opts), socket });
      }),
    );
    await new Promise<void>((r) => server.listen(join(dir.path, 's'), r));
  });
  afterEach(() => {
    server.close();
    dir.remove();
  });

  async function flood(client: Socket, socket: Socket, requests: number): Promise<void> {
    for (let id = 1; id <= requests; id++) {
      if (client.destroyed || socket.destroyed) return;
      client.write(encodeFrames([JSON.stringify({ ...REQ, id })]));
      if (id % 50 === 0) await new Promise((r) => setTimeout(r, 5));
      peakQueued = Math.max(peakQueued, socket.writableLength);
    }
  }

  it('pauses reading over the quota, keeps the queue bounded, then stops the capsule (E_IPC_STALLED)', async () => {
    const client = connect(join(dir.path, 's'));
    client.pause(); // never reads
    client.on('error', () => undefined); // the runtime hangs up on it
    const { socket } = await channel;
    await flood(client, socket, 2000);
    const deadline = Date.now() + 5000;
    while (closedCode === undefined && Date.now() < deadline) {
      peakQueued = Math.max(peakQueued, socket.writableLength);
      await new Promise((r) => setTimeout(r, 20));
    }
    client.destroy();
    process.stdout.write(`      served ${served} of 2000; peak queued ${peakQueued} bytes (quota ${QUOTA})\n`);
    assert.equal(closedCode, 'E_IPC_STALLED');
    assert.ok(
      events.some((e) => /over its quota/.test(e)),
      'audited when reads paused',
    );
    assert.ok(served < 2000, 'stopped reading its requests');
    // The bound (runtime/spec/ipc.md §5): the quota plus the replies of requests already in flight.
    const bound = QUOTA + DEFAULT_THROTTLE.maxInFlight * (BIG_REPLY.length + 64);
    assert.ok(peakQueued < bound, `bounded queue (${peakQueued} of at most ${bound})`);
  });

  it('control: a capsule that reads its replies is served in full and never stopped', async () => {
    const client = connect(join(dir.path, 's'));
    let replies = 0;
    let pending = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      pending = Buffer.concat([pending, d]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
        pending = pending.subarray(4 + pending.readUInt32BE(0));
        replies++;
      }
    });
    const { socket } = await channel;
    await flood(client, socket, 600);
    const deadline = Date.now() + 10_000;
    while (replies < 600 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    client.destroy();
    assert.equal(replies, 600);
    assert.equal(closedCode, undefined);
  });
});
