/**
 * The `local` backend: the runtime on this machine as `npm start` runs it (a private swtpm, the
 * MCU simulator on a socat pty pair, elastosd with the story's capsules) and a private sshd on
 * 127.0.0.1 with a throw-away admin user whose key is restricted to `elastos` (scripts/ssh/).
 * Root is this machine's root (the rig runs as root). Everything it starts it stops, by pid.
 */
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElastosError } from '@elastos/protocol/errors';
import { loadConfig, provisionRuntimeKey, Store } from '@elastos/runtime';
import { adminCaller, setUpStory, trustDevPublisher } from '@elastos/scripts/dist/demo/story.js';
import { REPO_ROOT } from '@elastos/scripts/dist/workspaces.js';
import {
  canCreateAccounts,
  createSystemGroup,
  createSystemUser,
  ELASTOS,
  makeTempDir,
  pollFor,
  SocatPtyPair,
  Sshd,
  Swtpm,
  swtpmDevConfig,
} from '@elastos/testkit';
import { buildHilCapsules } from '../../capsules/build.js';
import type { Rig } from '../../rig.js';
import type { LocalSettings, RigFile } from '../../rig-file.js';
import { FileConsole } from '../file-console.js';
import { runBounded, SshShell } from '../ssh-shell.js';
import { HIL_RULES } from './hil-rules.js';
import { LocalPower } from './local-power.js';
import { LocalRuntime } from './local-runtime.js';
import { SimMcu } from './sim-mcu.js';

/** The ask window on the local rig (presence.ts's WINDOW_MS). */
const LOCAL_ASK_MS = 15_000;
const WRAPPER = join(REPO_ROOT, 'scripts', 'ssh', 'elastos-ssh-wrapper');

/** Fails loudly (never a skip) when this machine cannot be a local rig. */
function checkPrerequisites(): void {
  const missing = [
    canCreateAccounts() ? '' : 'root (the rig creates a throw-away admin user)',
    ...['/usr/sbin/sshd', '/usr/bin/swtpm', '/usr/bin/socat'].map((p) => (existsSync(p) ? '' : p)),
  ].filter((m) => m !== '');
  if (missing.length > 0) {
    throw new ElastosError(
      'E_SETUP_REQUIRED',
      `local rig: missing ${missing.join(', ')} (npm run setup installs them)`,
    );
  }
}

function writeConfig(dir: string, tcti: string, group: string, serialPath: string, s: LocalSettings): string {
  const path = join(dir, 'config.json');
  const config = swtpmDevConfig(tcti, {
    logLevel: 'info',
    admin: { group },
    serial: { path: serialPath, watchdogMs: s.watchdogMs },
    broker: { askTimeoutMs: LOCAL_ASK_MS },
  });
  writeFileSync(path, JSON.stringify(config, null, 2));
  chmodSync(path, 0o644); // the admin user reads it to find the socket
  return path;
}

async function provision(configPath: string, dir: string): Promise<void> {
  const config = loadConfig(configPath);
  await trustDevPublisher(config, dir);
  const store = await Store.open(join(config.stateDir, 'store'));
  try {
    await provisionRuntimeKey(config, store, 'new');
  } finally {
    await store.close();
  }
}

export async function openLocalRig(rig: Rig, file: RigFile & { backend: 'local' }): Promise<void> {
  checkPrerequisites();
  await startParts(rig, file.local);
}

async function startParts(rig: Rig, s: LocalSettings): Promise<void> {
  const dir = makeTempDir('elastos-hil-');
  chmodSync(dir.path, 0o755);
  rig.onClose(async () => (process.env.HIL_KEEP ? undefined : dir.remove()));
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  rig.onClose(() => swtpm.stop());
  await swtpm.start();
  const pair = new SocatPtyPair(join(dir.path, 'serial'));
  rig.onClose(() => pair.stop());
  await pair.start();
  const mcu = new SimMcu(rig);
  rig.onClose(() => mcu.stop());
  await mcu.start(pair.mcu);
  const group = createSystemGroup();
  rig.onClose(async () => group.remove());
  const admin = createSystemUser({ groups: [group.name] });
  rig.onClose(async () => admin.remove());

  const configPath = writeConfig(dir.path, swtpm.tcti, group.name, pair.host, s);
  await provision(configPath, dir.path);
  const consolePath = join(dir.path, 'console.log');
  const runtime = new LocalRuntime(rig, configPath, consolePath);
  const power = new LocalPower(runtime, mcu);
  rig.onClose(async () => {
    power.dispose();
    await runtime.stop();
  });
  runtime.start();
  const config = loadConfig(configPath);
  const call = adminCaller(config.admin.socket);
  await pollFor(
    'the local runtime to answer',
    () =>
      call('version').then(
        () => true,
        () => undefined,
      ),
    60_000,
    100,
  );
  await setUpStory(call, config, dir.path, () => undefined, HIL_RULES);
  const built = await buildHilCapsules(join(dir.path, 'capsules'), join(dir.path, 'publisher.key'));

  const sshd = new Sshd(join(dir.path, 'ssh'));
  const key = sshd.newKey('admin');
  sshd.authorize(
    admin.name,
    `restrict,command="${WRAPPER} --elastos ${ELASTOS} --config ${configPath}" ${key.publicKey}`,
  );
  rig.onClose(() => sshd.stop());
  await sshd.start();

  const target = {
    host: '127.0.0.1',
    port: sshd.port,
    user: admin.name,
    key: key.path,
    knownHosts: join(dir.path, 'ssh', 'known_hosts'),
  };
  rig.trackPids(() => [runtime.pid, mcu.sim.pid, swtpm.pid, pair.pid]);
  rig.register('console', new FileConsole(consolePath));
  rig.register('shell', new SshShell(rig, target, (argv, ms) => runBounded(argv[0] ?? 'false', argv.slice(1), ms)));
  rig.register('power', power);
  rig.register('mcu', mcu);
  rig.register('tpm', { where: swtpm.tcti });
  rig.box = {
    stateDir: config.stateDir,
    hilPackages: { hammer: built.hammer.file, asker: built.asker.file },
    bootMs: 60_000,
    powerCuts: s.powerCuts,
    watchdogMs: s.watchdogMs,
    slowdown: 1,
    askWindowMs: LOCAL_ASK_MS,
  };
}
