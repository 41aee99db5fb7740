/**
 * Test support: the world outside a network-granted capsule, in network namespaces of its own.
 * `internet` stands for the internet (a public TEST-NET-3 address, 203.0.113.0/24), `lan` for the
 * box's LAN (192.168.213.0/24); each has a veth link to the host and a TCP server that counts its
 * connections; `lan2` is another LAN range (172.29.213.0/24), for a capsule granted only the first.
 * Needs root and iproute2. Removed with `remove()`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Peer {
  /** `address:port` of its server. */
  target: string;
  hits(): number;
}

const SERVER = `
const net = require('node:net');
let n = 0;
const s = net.createServer((c) => { c.on('error', () => {}); n++; process.stdout.write('hit ' + n + '\\n'); c.end('hello\\n'); });
s.listen(0, process.argv[1], () => process.stdout.write('port ' + s.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0)); process.stdin.resume();
`;

const ip = (input: string, ns?: string) =>
  execFileSync('ip', [...(ns ? ['-n', ns] : []), '-batch', '-'], { input, stdio: ['pipe', 'ignore', 'pipe'] });

class Side implements Peer {
  target = '';
  private count = 0;
  private server: ChildProcess | undefined;

  constructor(
    readonly ns: string,
    readonly veth: string,
    readonly host: string,
    readonly peer: string,
  ) {}

  async open(): Promise<void> {
    this.close();
    ip(`netns add ${this.ns}\nlink add ${this.veth} type veth peer name eth0 netns ${this.ns}\n`);
    ip(`addr add ${this.host}/24 dev ${this.veth}\nlink set ${this.veth} up\n`);
    ip(`link set lo up\naddr add ${this.peer}/24 dev eth0\nlink set eth0 up\n`, this.ns);
    const server = spawn('ip', ['netns', 'exec', this.ns, process.execPath, '-e', SERVER, this.peer], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.server = server;
    const port = await new Promise<number>((resolve, reject) => {
      server.once('exit', (code) => reject(new Error(`server in ${this.ns} exited ${code}`)));
      createInterface({ input: server.stdout as NodeJS.ReadableStream }).on('line', (line) => {
        const [what, n] = line.split(' ');
        if (what === 'port') resolve(Number(n));
        if (what === 'hit') this.count = Number(n);
      });
    });
    this.target = `${this.peer}:${port}`;
  }

  hits(): number {
    return this.count;
  }

  close(): void {
    this.server?.stdin?.end();
    this.server?.kill();
    try {
      execFileSync('ip', ['-force', '-batch', '-'], {
        input: `link del ${this.veth}\nnetns del ${this.ns}\n`,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
    } catch {
      // Already gone.
    }
  }
}

export class NetWorld {
  readonly internet: Peer;
  readonly lan: Peer;
  readonly lan2: Peer;
  private readonly sides: Side[];

  private constructor(tag: string) {
    const internet = new Side(`elastos-t-inet-${tag}`, `eti${tag}`, '203.0.113.1', '203.0.113.2');
    const lan = new Side(`elastos-t-lan-${tag}`, `etl${tag}`, '192.168.213.1', '192.168.213.2');
    const lan2 = new Side(`elastos-t-lan2-${tag}`, `etm${tag}`, '172.29.213.1', '172.29.213.2');
    this.sides = [internet, lan, lan2];
    this.internet = internet;
    this.lan = lan;
    this.lan2 = lan2;
  }

  static async open(): Promise<NetWorld> {
    const world = new NetWorld(String(process.pid % 100_000));
    try {
      for (const side of world.sides) await side.open();
    } catch (err) {
      world.remove();
      throw err;
    }
    return world;
  }

  remove(): void {
    for (const side of this.sides) side.close();
  }
}
