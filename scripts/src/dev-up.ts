import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hasCode, loadConfig, provisionRuntimeKey, Store } from '@elastos/runtime';
import { SocatPtyPair, Swtpm } from '@elastos/testkit';
import { adminCaller, followStory, setUpStory, trustDevPublisher } from './demo/story.js';
import { REPO_ROOT } from './workspaces.js';

/**
 * `npm start`: a private swtpm, a socat pty pair with the MCU simulator on one end, then the
 * runtime (serial.path = the other end) with its demo capsules, all under one run
 * directory (.run/dev, or $ELASTOS_DEV_DIR). Ctrl-C or SIGTERM stops every process it started.
 */
const devDir = resolve(process.env.ELASTOS_DEV_DIR ?? join(REPO_ROOT, '.run', 'dev'));
const say = (line: string) => process.stdout.write(`[dev-up] ${line}\n`);

function writeDevConfig(tcti: string, serialPath: string): string {
  mkdirSync(devDir, { recursive: true });
  const path = join(devDir, 'config.json');
  const config = {
    profile: 'dev',
    runDir: 'run',
    stateDir: 'state',
    logLevel: 'info',
    tpm: { tcti, pcr: 23, insecureNoTpm: false },
    admin: { socket: 'admin.sock', group: 'elastos-admin' },
    serial: { path: serialPath },
    // Its own cgroup parent and capsule uids: a production runtime and test runtimes can run beside it.
    confine: { cgroupParent: 'elastos-dev', uidBase: 1_900_010_000, uidCount: 10_000 },
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
    const r = await provisionRuntimeKey(config, store, 'if-needed').catch(async (err: unknown) => {
      if (!hasCode(err, 'E_TPM_PCR_MISMATCH')) throw err;
      say('the runtime, its config or trust store changed since provisioning: dev reseals a NEW runtime key');
      return provisionRuntimeKey(config, store, 'reseal');
    });
    say(`runtime key ${r.keyId} ${r.action} (sealed to PCR ${r.pcr})`);
  } finally {
    await store.close();
  }
}

/** The MCU simulator (firmware-bridge) on the MCU's end of the pty pair; its JSON events go to a log file. */
function startSimulator(port: string): ChildProcess {
  const main = join(REPO_ROOT, 'firmware-bridge', 'dist', 'simulator', 'main.js');
  if (!existsSync(main)) throw new Error(`missing ${main}`);
  const out = openSync(join(devDir, 'simulator.log'), 'a');
  return spawn(process.execPath, [main, '--port', port], { stdio: ['ignore', out, 'inherit'], detached: true });
}

async function main(): Promise<void> {
  const swtpm = new Swtpm(join(devDir, 'swtpm'));
  const serial = new SocatPtyPair(join(devDir, 'serial'));
  const children: ChildProcess[] = [];
  let stopping = false;

  const stopAll = async (status: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    await serial.stop();
    await swtpm.stop();
    say('all stopped');
    process.exit(status);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  say(`run directory ${devDir}`);
  await swtpm.start();
  say(`swtpm started (pid ${swtpm.pid}), TCTI ${swtpm.tcti}`);
  await serial.start();
  const sim = startSimulator(serial.mcu);
  children.push(sim);
  say(
    `MCU simulator on ${serial.mcu} (pid ${sim.pid}, log ${join(devDir, 'simulator.log')}); button: kill -USR2 ${sim.pid}`,
  );
  const configPath = writeDevConfig(swtpm.tcti, serial.host);
  say(`config ${configPath}`);
  say(
    `dev publisher key ${await trustDevPublisher(loadConfig(configPath), devDir)} trusted (its secret stays in ${devDir})`,
  );
  await ensureProvisioned(configPath);

  const daemon = join(REPO_ROOT, 'runtime', 'bin', 'elastosd');
  if (!existsSync(daemon)) throw new Error(`missing ${daemon}`);
  const runtime = spawn(process.execPath, [daemon, '--config', configPath], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, ELASTOS_LOG_PRETTY: '1' },
    // Own process group: Ctrl-C reaches dev-up alone, which stops the runtime, then the MCU, then the TPM.
    detached: true,
  });
  children.push(runtime);
  say(`runtime started (pid ${runtime.pid}); try: npx elastos --config ${configPath} status`);
  runtime.once('exit', (code, signal) => {
    if (stopping) return;
    say(`runtime exited (${signal ?? code}); stopping the rest`);
    void stopAll(code === 0 ? 0 : 1);
  });
  await tellStory(configPath);
}

/** Installs and starts the demo capsules, then prints the story from the audit trail (capsules/README.md). */
async function tellStory(configPath: string): Promise<void> {
  const config = loadConfig(configPath);
  const call = adminCaller(config.admin.socket);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await call('version');
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const story = (line: string) => process.stdout.write(`[story] ${line}\n`);
  const follow = followStory(call, story);
  follow.done.catch((err: Error) => say(`story stopped: ${err.message}`));
  await setUpStory(call, config, devDir, say);
  say(`capsules started; logs: npx elastos --config ${configPath} capsule logs photo-editor`);
}

main().catch((err: unknown) => {
  process.stderr.write(`error E_INTERNAL: ${(err as Error).message}\n`);
  process.exit(1);
});
