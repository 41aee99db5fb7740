/**
 * A hostile capsule for the confinement tests: copied as `main.mjs` into a capsule's code dir and
 * run through the real launcher. ATTACK (in its env) picks what it tries; it reports one JSON line
 * `{attack, results: {attempt: outcome}}` on fd 3, where an outcome starting with `ESCAPED` means
 * the attempt worked. (Newline-delimited JSON is this fixture's own convention: the channel's real
 * frame format belongs to the broker, runtime/spec/ipc.md.)
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import net from 'node:net';
import { Worker } from 'node:worker_threads';

const env = process.env;
const channel = new net.Socket({ fd: 3, readable: true, writable: true });
const send = (obj: unknown) => channel.write(`${JSON.stringify(obj)}\n`);

function outcome(fn: () => unknown): string {
  try {
    return `ESCAPED ${JSON.stringify(fn() ?? null).slice(0, 80)}`;
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code ?? err);
  }
}

/** A control: what a well-behaved capsule does must work ('ok'), or the result names the error. */
function works(fn: () => boolean): string {
  try {
    return fn() ? 'ok' : 'broken';
  } catch (err) {
    return String((err as NodeJS.ErrnoException).code ?? err);
  }
}

function files(): Record<string, string> {
  const other = env.OTHER_DATA ?? '/nonexistent';
  return {
    readShadow: outcome(() => readFileSync('/etc/shadow', 'utf8').length),
    readPasswd: outcome(() => readFileSync('/etc/passwd', 'utf8').length),
    listOtherData: outcome(() => readdirSync(other)),
    readOtherSecret: outcome(() => readFileSync(`${other}/secret`, 'utf8')),
    readOwnCodeByHostPath: outcome(() => readdirSync(env.CODE_HOST ?? '/nonexistent')),
    writeOtherData: outcome(() => writeFileSync(`${other}/pwned`, 'x')),
    writeCode: outcome(() => writeFileSync('/capsule/code/pwned', 'x')),
    writeRoot: outcome(() => writeFileSync('/pwned', 'x')),
    writeUsr: outcome(() => writeFileSync('/usr/pwned', 'x')),
    writeSysrq: outcome(() => writeFileSync('/proc/sysrq-trigger', 'c')),
    symlinkToShadow: outcome(() => {
      symlinkSync('/etc/shadow', '/capsule/data/link');
      return readFileSync('/capsule/data/link', 'utf8').length;
    }),
    listRoot: outcome(() => readdirSync('/')),
    ownDataWorks: works(() => {
      writeFileSync('/capsule/data/own', 'mine');
      return readFileSync('/capsule/data/own', 'utf8') === 'mine';
    }),
    // Staged writes are renamed into another folder (storage's uploads): a sandbox layer that
    // refuses to reparent a file (Landlock's REFER right) breaks every such capsule with EXDEV.
    ownDataMovesAcrossFolders: works(() => {
      for (const d of ['staging', 'files']) mkdirSync(`/capsule/data/${d}`, { recursive: true });
      writeFileSync('/capsule/data/staging/part', 'moved');
      renameSync('/capsule/data/staging/part', '/capsule/data/files/done');
      linkSync('/capsule/data/files/done', '/capsule/data/staging/linked');
      return readFileSync('/capsule/data/staging/linked', 'utf8') === 'moved';
    }),
  };
}

/** Connects to a TCP `host:port` or an abstract unix socket (`@name`); 'ESCAPED connected' if it worked. */
function connect(target: string): Promise<string> {
  return new Promise((resolve) => {
    const at = target.lastIndexOf(':');
    const s = target.startsWith('@')
      ? net.connect({ path: `\0${target.slice(1)}` })
      : net.connect(Number(target.slice(at + 1)), target.slice(0, at).replace(/^\[|\]$/g, ''));
    const timer = setTimeout(() => {
      s.destroy();
      resolve('TIMEOUT');
    }, 3000);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve('ESCAPED connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(String(err.code ?? err));
    });
  });
}

/** PORT: the host's listener; the other targets only when the test names them (TARGET_<name>=host:port). */
async function network(): Promise<Record<string, string>> {
  const port = Number(env.PORT);
  const results: Record<string, string> = {
    tcpLoopback: await connect(`127.0.0.1:${port}`),
    tcpIpv6: await connect(`[::1]:${port}`),
  };
  for (const [key, target] of Object.entries(env))
    if (key.startsWith('TARGET_') && target) results[key.slice(7)] = await connect(target);
  return results;
}

function signals(): Record<string, string> {
  const pid = Number(env.RUNTIME_PID);
  return {
    killRuntime: outcome(() => process.kill(pid, 'SIGKILL')),
    probeRuntime: outcome(() => process.kill(pid, 0)),
    debugRuntime: outcome(() => (process as unknown as { _debugProcess(p: number): void })._debugProcess(pid)),
    readRuntimeEnviron: outcome(() => readFileSync(`/proc/${pid}/environ`, 'utf8').length),
    readRuntimeMem: outcome(() => readFileSync(`/proc/${pid}/mem`).length),
  };
}

function exec(): Record<string, string> {
  return {
    execSh: outcome(() => execFileSync('/bin/sh', ['-c', 'id'], { encoding: 'utf8' })),
    execNode: outcome(() => execFileSync(process.execPath, ['-e', '1'], { encoding: 'utf8' })),
    worker: outcome(() => new Worker('setInterval(() => {}, 1000)', { eval: true }).threadId),
  };
}

/** Spawns node children until the kernel refuses (pids.max), then exits non-zero. */
async function forkBomb(): Promise<void> {
  let spawned = 0;
  let refusal = 'none';
  for (let i = 0; i < 64 && refusal === 'none'; i++) {
    refusal = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
      child.once('spawn', () => resolve('none'));
      child.once('error', (err: NodeJS.ErrnoException) => resolve(String(err.code ?? err)));
    });
    if (refusal === 'none') spawned++;
  }
  send({ attack: 'forkbomb', results: { forkBomb: refusal === 'none' ? 'ESCAPED 64 children' : refusal }, spawned });
  // Lingers (as a real bomb would) until told to go, so the supervisor's sampler sees it running.
  channel.once('data', () => channel.end(() => process.exit(3)));
}

function memoryHog(): void {
  const hoard: Buffer[] = [];
  send({ attack: 'memhog', results: {}, started: true });
  const grow = () => {
    hoard.push(Buffer.alloc(8 * 1024 * 1024, 1));
    setImmediate(grow);
  };
  grow();
}

/**
 * Writes 1 MiB at a time into its data dir until refused, or FILL_MIB (64) were written: an
 * 'ESCAPED' result means no quota stopped it (ext4 reserves blocks at write(): a full volume refuses
 * the write itself). Then removes the file: its own space comes back.
 */
function fill(): Record<string, string> {
  const cap = Number(env.FILL_MIB ?? 64);
  const path = '/capsule/data/fill';
  const chunk = Buffer.alloc(1024 * 1024, 7);
  let written = 0;
  let fd: number | undefined;
  let result = '';
  try {
    fd = openSync(path, 'w');
    for (; written < cap; written++) writeSync(fd, chunk);
    result = `ESCAPED wrote ${written} MiB`;
  } catch (err) {
    result = String((err as NodeJS.ErrnoException).code ?? err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const results = { fill: result, writtenMiB: String(written) };
  rmSync(path, { force: true });
  const afterFreeing = works(() => {
    writeFileSync(`${path}.small`, 'x');
    return true;
  });
  return { ...results, writesAfterFreeing: afterFreeing };
}

/** Echoes every line back: the well-behaved neighbour (and the benchmark's first message). */
function serve(): void {
  send({ ready: true, pid: process.pid, uid: process.getuid?.() });
  let buf = '';
  channel.on('data', (d) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      channel.write(`${buf.slice(0, i)}\n`);
      buf = buf.slice(i + 1);
    }
  });
}

async function main(): Promise<void> {
  const attack = env.ATTACK ?? 'serve';
  if (attack === 'serve') return serve();
  if (attack === 'linger') {
    // Outlives its channel: only the confinement can end it.
    send({ ready: true, lingering: true });
    setInterval(() => {}, 60_000);
    return;
  }
  if (attack === 'crash') {
    send({ ready: true, crashing: true });
    channel.end(() => process.exit(1));
    return;
  }
  if (attack === 'forkbomb') return forkBomb();
  if (attack === 'memhog') return memoryHog();
  if (attack === 'spin') {
    send({ attack, results: {}, spinning: true });
    setTimeout(() => {
      for (;;);
    }, 10);
    return;
  }
  if (attack === 'fill') {
    send({ attack, results: fill() });
    return serve();
  }
  const run = { files, network, signals, exec }[attack];
  const results = run ? await run() : { unknownAttack: attack };
  send({ attack, results });
  channel.end();
}

void main();
