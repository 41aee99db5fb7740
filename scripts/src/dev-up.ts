import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { asElastosError, createLogger, hasCode, loadConfig, provisionAudited, Store } from '@elastos/runtime';
import { SocatPtyPair, Swtpm, withParentDeathSignal } from '@elastos/testkit';
import { adminCaller, followStory, setUpStory, trustDevPublisher } from './demo/story.js';
import { RunRecord } from './dev/run-record.js';
import { REPO_ROOT } from './workspaces.js';

/**
 * `npm start`: a private swtpm, a socat pty pair with the MCU simulator on one end, then the
 * runtime (serial.path = the other end) with its demo capsules, all under one run directory
 * (.run/dev, or $ELASTOS_DEV_DIR), then the story from the audit trail as it happens.
 * Ctrl-C, SIGTERM or a failure of its own stops every process it started; each child also gets
 * SIGTERM if `npm start` is killed (-9 included), and the next run stops whatever is left.
 */
const HELP = `usage: npm start [-- --json]
  --json   JSON lines (pino's) instead of short lines; the default when stdout is not a TTY`;

const { values: flags } = parseArgs({ options: { json: { type: 'boolean' }, help: { type: 'boolean' } } });
const devDir = resolve(process.env.ELASTOS_DEV_DIR ?? join(REPO_ROOT, '.run', 'dev'));
const format = flags.json || !process.stderr.isTTY ? 'json' : 'pretty';
const log = createLogger({ name: 'npm-start', pretty: format === 'pretty' });
const storyLog = createLogger({ name: 'story', pretty: format === 'pretty' });
const say = (line: string) => log.info(line);
const DEATH: NodeJS.Signals = 'SIGTERM';

function writeDevConfig(tcti: string, serialPath: string): string {
  const path = join(devDir, 'config.json');
  const config = {
    profile: 'dev',
    runDir: 'run',
    stateDir: 'state',
    logLevel: 'info',
    tpm: { tcti, pcr: 23, insecureNoTpm: false },
    admin: { socket: 'admin.sock', group: 'elastos-admin' },
    serial: { path: serialPath },
    // Its own cgroup parent and capsule uids: a production runtime and test runtimes can run beside
    // it ($ELASTOS_DEV_CONFINE, JSON, overrides them: tests of npm start run beside a real one).
    confine: {
      cgroupParent: 'elastos-dev',
      uidBase: 1_900_010_000,
      uidCount: 10_000,
      ...(JSON.parse(process.env.ELASTOS_DEV_CONFINE ?? '{}') as object),
    },
  };
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

/**
 * Dev only: provision the runtime key on first run; when the runtime was rebuilt since (its PCR
 * no longer matches), reseal a new key, saying so. On a box `elastos provision` is an admin act.
 */
async function ensureProvisioned(configPath: string): Promise<void> {
  const config = loadConfig(configPath);
  const store = await Store.open(join(config.stateDir, 'store'));
  try {
    const r = await provisionAudited(config, store, 'if-needed', 'npm-start').catch(async (err: unknown) => {
      if (!hasCode(err, 'E_TPM_PCR_MISMATCH')) throw err;
      say('the runtime, its config or trust store changed since provisioning: dev reseals a NEW runtime key');
      return provisionAudited(config, store, 'reseal', 'npm-start');
    });
    say(`runtime key ${r.keyId} ${r.action} (sealed to PCR ${r.pcr})`);
  } finally {
    await store.close();
  }
}

/** A child that gets SIGTERM when npm start dies, in its own process group (Ctrl-C reaches npm start alone). */
function spawnChild(file: string, args: string[], out: 'inherit' | number, env?: NodeJS.ProcessEnv): ChildProcess {
  const [cmd, argv] = withParentDeathSignal(DEATH, file, args);
  return spawn(cmd, argv, { stdio: ['ignore', out, 'inherit'], detached: true, ...(env ? { env } : {}) });
}

/** Stops in reverse order of start: the story, the runtime, the MCU simulator and its pty, the TPM. */
class Processes {
  readonly children: ChildProcess[] = [];
  /** The story's subscription: closed first, so that the runtime's stop is not told as a failure. */
  story: { stop: () => void } | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly record: RunRecord,
    readonly swtpm: Swtpm,
    readonly serial: SocatPtyPair,
  ) {}

  add(name: string, child: ChildProcess): ChildProcess {
    this.children.push(child);
    this.record.add(name, child.pid);
    return child;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.story?.stop();
      for (const child of [...this.children].reverse()) await stopChild(child);
      await this.serial.stop();
      await this.swtpm.stop();
      this.record.remove();
    })();
    return this.stopping;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

async function startParts(p: Processes): Promise<string> {
  await p.swtpm.start();
  p.record.add('swtpm', p.swtpm.pid);
  say(`TPM: swtpm (pid ${p.swtpm.pid}) at ${p.swtpm.tcti}`);
  await p.serial.start();
  p.record.add('socat', p.serial.pid);
  const main = join(REPO_ROOT, 'firmware-bridge', 'dist', 'simulator', 'main.js');
  if (!existsSync(main)) throw new Error(`missing ${main}: run npm run setup`);
  const simLog = openSync(join(devDir, 'simulator.log'), 'a');
  const sim = p.add('simulator', spawnChild(process.execPath, [main, '--port', p.serial.mcu], simLog));
  say(`MCU: simulator (pid ${sim.pid}) on ${p.serial.mcu}; press its button: kill -USR2 ${sim.pid}`);
  const configPath = writeDevConfig(p.swtpm.tcti, p.serial.host);
  const key = await trustDevPublisher(loadConfig(configPath), devDir);
  say(`dev publisher key ${key} trusted (its secret stays in ${devDir})`);
  await ensureProvisioned(configPath);
  return configPath;
}

function startRuntime(p: Processes, configPath: string, onExit: (code: number | null) => void): void {
  const daemon = join(REPO_ROOT, 'runtime', 'bin', 'elastosd');
  if (!existsSync(daemon)) throw new Error(`missing ${daemon}: run npm run setup`);
  const args = [daemon, '--config', configPath, '--log-format', format];
  const runtime = p.add('elastosd', spawnChild(process.execPath, args, 'inherit'));
  say(`runtime: elastosd (pid ${runtime.pid}), config ${configPath}`);
  runtime.once('exit', (code, signal) => onExit(signal ? null : code));
}

/** Waits for the runtime's admin socket and its boot-time capsule starts (`status.ready`). */
async function waitReady(socket: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await adminCaller(socket)('status').catch(() => undefined);
    if ((status as { ready?: boolean } | undefined)?.ready) return;
    if (Date.now() > deadline) throw new Error('the runtime did not become ready within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function tryThis(configPath: string): void {
  const e = `npx elastos --config ${configPath}`;
  say('ready. Try, in another terminal:');
  for (const c of ['status', 'ps', 'requests', 'audit tail -f', 'capsule logs photo-editor', 'audit verify'])
    say(`  ${e} ${c}`);
  say('Ctrl-C stops everything.');
}

async function main(): Promise<void> {
  if (flags.help) return void process.stdout.write(`${HELP}\n`);
  mkdirSync(devDir, { recursive: true });
  const record = new RunRecord(join(devDir, 'npm-start.json'));
  await record.takeOver(say);
  const death = { parentDeathSignal: DEATH };
  const p = new Processes(
    record,
    new Swtpm(join(devDir, 'swtpm'), death),
    new SocatPtyPair(join(devDir, 'serial'), death),
  );
  let stopping = false;
  const stop = (status: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    void p.stop().then(() => {
      say('all stopped');
      process.exit(status);
    });
  };
  process.on('SIGINT', () => stop(0));
  process.on('SIGTERM', () => stop(0));
  try {
    say(`run directory ${devDir}`);
    const configPath = await startParts(p);
    startRuntime(p, configPath, (code) => {
      if (stopping) return;
      log.error(`the runtime exited (${code ?? 'killed'}); stopping the rest`);
      stop(1);
    });
    p.story = await tellStory(configPath);
    tryThis(configPath);
  } catch (err) {
    const e = asElastosError(err);
    log.error({ code: e.code }, e.message);
    stop(e.exitCode);
  }
}

/** Installs and starts the demo capsules, then tells the story from the audit trail (a subscription). */
async function tellStory(configPath: string): Promise<{ stop: () => void }> {
  const config = loadConfig(configPath);
  await waitReady(config.admin.socket);
  const follow = followStory(config.admin.socket, (line) => storyLog.info(line));
  follow.done.catch((err: Error) => log.warn(`the story stopped: ${err.message}`));
  await setUpStory(adminCaller(config.admin.socket), config, devDir, say);
  return follow;
}

main().catch((err: unknown) => {
  const e = asElastosError(err);
  process.stderr.write(`${e.toLine()}\n`);
  process.exit(e.exitCode);
});
