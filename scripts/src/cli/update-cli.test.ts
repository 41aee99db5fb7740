/**
 * `elastos update install/status/undo/confirm` end to end (runtime/spec/update.md): elastosd on
 * swtpm, Debian's real RAUC service on a private D-Bus with two file slots, the image's custom
 * boot loader backend and bundle hook over an ESP directory. Refused bundles (one byte changed,
 * another signer, another system, older than the running release or the TPM floor) each exit with
 * their code and write nothing; a good bundle from a 127.0.0.1 URL is written to slot B; a "boot"
 * of B and its blessing raise the floor in the TPM, which a wiped update state does not lower.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import {
  ELASTOS,
  ELASTOSD,
  execRun,
  fileHash,
  makeSignKey,
  makeTempDir,
  makeTestBundle,
  RaucRig,
  Swtpm,
  swtpmDevConfig,
} from '@elastos/testkit';

function flipByte(file: string, at: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, at);
  b[0] = (b[0] ?? 0) ^ 0x01;
  writeSync(fd, b, 0, 1, at);
  closeSync(fd);
}

describe('elastos update with elastosd on swtpm and the real RAUC service', function () {
  this.timeout(120_000);
  const dir = makeTempDir('cli-update-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  const configPath = join(dir.path, 'config.json');
  const sock = join(dir.path, 'run', 'admin.sock');
  const vendor = makeSignKey(join(dir.path, 'keys'), 'vendor');
  const rig = new RaucRig(join(dir.path, 'rig'), vendor.cert);
  const bundles: Record<string, string> = {};
  let daemon: ChildProcess | undefined;
  let http: Server | undefined;
  const env = () => ({ ...process.env, ...rig.env });
  const elastos = (...args: string[]) =>
    execRun(process.execPath, [ELASTOS, '--config', configPath, ...args], { env: env() });
  const json = async <T = Record<string, unknown>>(...args: string[]): Promise<T> => {
    const r = await elastos('--json', ...args);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as T;
  };

  async function startDaemon(): Promise<void> {
    const child = spawn(process.execPath, [ELASTOSD, '--config', configPath], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: env(),
    });
    daemon = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    while (!existsSync(sock)) {
      if (child.exitCode !== null) throw new Error(`elastosd exited ${child.exitCode}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  async function stopDaemon(): Promise<void> {
    const d = daemon;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const gone = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    await gone;
  }
  const auditTypes = async () => {
    const r = await elastos('--json', 'audit', 'tail', '-n', '200');
    assert.equal(r.code, 0, r.stderr);
    const t = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; code?: string });
    return t.filter((x) => x.type.startsWith('update.'));
  };

  before(async () => {
    await swtpm.start();
    await rig.start(5);
    const update = { systemConf: rig.systemConf, keyring: vendor.cert, esp: rig.esp, cmdline: rig.cmdline };
    writeFileSync(configPath, JSON.stringify(swtpmDevConfig(swtpm.tcti, { update })));
    const w = join(dir.path, 'bundles');
    const mk = (name: string, version: string, o: { key?: typeof vendor; compatible?: string } = {}) => {
      bundles[name] = makeTestBundle(w, { version, key: o.key ?? vendor, out: join(dir.path, `${name}.raucb`), ...o });
    };
    mk('v7', '7');
    mk('v6', '6');
    mk('v4', '4');
    mk('other-key', '8', { key: makeSignKey(join(dir.path, 'keys'), 'intruder') });
    mk('other-system', '8', { compatible: 'elastos-pc2-arm64' });
    bundles.flipped = join(dir.path, 'flipped.raucb');
    writeFileSync(bundles.flipped, readFileSync(bundles.v7 as string));
    flipByte(bundles.flipped, 100);
    http = createServer((req, res) => {
      const f = bundles[(req.url ?? '').replace(/^\//, '')];
      if (!f) return res.writeHead(404).end();
      res.writeHead(200, { 'content-length': readFileSync(f).length }).end(readFileSync(f));
    });
    await new Promise<void>((r) => http?.listen(0, '127.0.0.1', r));
    assert.equal((await elastos('provision')).code, 0);
    await startDaemon();
  });
  after(async () => {
    await stopDaemon();
    http?.close();
    await rig.stop();
    await swtpm.stop();
    dir.remove();
  });

  const url = (name: string) =>
    `http://127.0.0.1:${(http?.address() as { port: number } | undefined)?.port ?? 0}/${name}`;

  it('status: slot A booted and good, B empty; the floor was raised to the booted release', async () => {
    const s = await json<{
      booted: string;
      next: string;
      floor: number;
      slots: Array<{ slot: string; state: string; version: number }>;
    }>('update', 'status');
    assert.equal(s.booted, 'a');
    assert.equal(s.next, 'a');
    assert.deepEqual(
      s.slots.map((x) => [x.slot, x.state, x.version]),
      [
        ['a', 'good', 5],
        ['b', 'empty', 0],
      ],
    );
    assert.equal(s.floor, 5);
    const text = await elastos('update', 'status');
    assert.match(text.stdout, /a \(booted\) \(next\)/);
    assert.match(text.stdout, /version floor: 5/);
  });

  for (const [name, code] of [
    ['flipped', 'E_UPDATE_SIGNATURE'],
    ['other-key', 'E_UPDATE_SIGNATURE'],
    ['other-system', 'E_UPDATE_COMPATIBLE'],
    ['v4', 'E_UPDATE_ROLLBACK'],
  ] as const) {
    it(`${name}: refused with ${code}, nothing written to slot B or the ESP`, async () => {
      const before = { slot: fileHash(rig.slotImage('b')), esp: rig.entries() };
      const r = await elastos('update', 'install', bundles[name] as string);
      assert.equal(r.code, 65, r.stderr);
      assert.match(r.stderr, new RegExp(`^error ${code}: `));
      assert.equal(fileHash(rig.slotImage('b')), before.slot);
      assert.deepEqual(rig.entries(), before.esp);
      const last = (await auditTypes()).pop();
      assert.deepEqual([last?.type, last?.code], ['update.refused', code]);
    });
  }

  it('a missing file and an unreachable URL: E_UPDATE_FETCH', async () => {
    const r = await elastos('update', 'install', join(dir.path, 'nope.raucb'));
    assert.match(r.stderr, /^error E_UPDATE_FETCH: /);
    const u = await elastos('update', 'install', url('nope'));
    assert.match(u.stderr, /^error E_UPDATE_FETCH: .*HTTP 404/);
  });

  it('a good bundle from a URL is written to slot B, which boots next with 3 tries; undo cancels it', async () => {
    const before = fileHash(rig.slotImage('b'));
    const r = await json<{ slot: string; version: number }>('update', 'install', url('v7'));
    assert.deepEqual([r.slot, r.version], ['b', 7]);
    assert.notEqual(fileHash(rig.slotImage('b')), before);
    // Byte for byte the bundle's image: a dm-verity slot (filesystem and hash tree) must not be
    // mounted read-write by RAUC for the hook (an ext4 slot type did: its superblock changed).
    const image = execFileSync('unsquashfs', ['-cat', bundles.v7 as string, 'rootfs.ext4'], { maxBuffer: 64 << 20 });
    const slot = readFileSync(rig.slotImage('b')).subarray(0, image.length);
    assert.ok(slot.equals(image), "slot B is not the bundle's image byte for byte");
    assert.deepEqual(rig.entries(), ['elastos-a.efi', 'elastos-b+3.efi']);
    const s = await json<{ next: string; pending: { slot: string } }>('update', 'status');
    assert.deepEqual([s.next, s.pending.slot], ['b', 'b']);
    const u = await json<{ next: string }>('update', 'undo');
    assert.equal(u.next, 'a');
    assert.deepEqual(rig.entries(), ['elastos-a.efi', 'elastos-b+0-0.efi']);
    assert.equal((await elastos('update', 'install', bundles.v7 as string)).code, 0);
    assert.deepEqual(rig.entries(), ['elastos-a.efi', 'elastos-b+3.efi']);
  });

  it('B used up its tries and A booted again: update.rolled-back, the floor unchanged', async () => {
    await stopDaemon();
    const linux = join(rig.esp, 'EFI/Linux');
    renameSync(join(linux, 'elastos-b+3.efi'), join(linux, 'elastos-b+0-3.efi')); // three failed tries
    await rig.reboot('a');
    await startDaemon();
    const s = await json<{ booted: string; next: string; floor: number; pending?: unknown }>('update', 'status');
    assert.deepEqual([s.booted, s.next, s.floor, s.pending], ['a', 'a', 5, undefined]);
    const last = (await auditTypes()).pop();
    assert.equal(last?.type, 'update.rolled-back');
    assert.equal((await elastos('update', 'install', bundles.v7 as string)).code, 0);
  });

  it('B boots (counted), is blessed, update confirm records it good and raises the TPM floor', async () => {
    await stopDaemon();
    const linux = join(rig.esp, 'EFI/Linux');
    renameSync(join(linux, 'elastos-b+3.efi'), join(linux, 'elastos-b+2-1.efi')); // what systemd-boot does
    await rig.reboot('b');
    await startDaemon();
    const s = await json<{ booted: string; floor: number; slots: Array<{ triesLeft?: number }> }>('update', 'status');
    assert.deepEqual([s.booted, s.floor, s.slots[1]?.triesLeft], ['b', 5, 2]);
    renameSync(join(linux, 'elastos-b+2-1.efi'), join(linux, 'elastos-b.efi')); // systemd-bless-boot
    await json('update', 'confirm');
    assert.equal((await json<{ floor: number }>('update', 'status')).floor, 7);
    const types = (await auditTypes()).map((r) => r.type);
    for (const t of ['update.installed', 'update.undo', 'update.booted', 'update.good'])
      assert.ok(types.includes(t), `${t} in ${types.join(' ')}`);
    const v = await elastos('audit', 'verify');
    assert.equal(v.code, 0, v.stderr);
  });

  it('undo on the good release B: A boots next (B marked bad), audited; the floor stays', async () => {
    const u = await json<{ next: string }>('update', 'undo');
    assert.equal(u.next, 'a');
    assert.deepEqual(rig.entries(), ['elastos-a.efi', 'elastos-b+0-0.efi']);
    const s = await json<{ booted: string; next: string; floor: number }>('update', 'status');
    assert.deepEqual([s.booted, s.next, s.floor], ['b', 'a', 7]);
    assert.equal((await auditTypes()).pop()?.type, 'update.undo');
  });

  it('the floor is in the TPM: an older box image and no update state still refuse the older bundle', async () => {
    await stopDaemon();
    // "Reflashed" to release 5 in slot A: its ESP, command line, and no update state on the data side.
    const linux = join(rig.esp, 'EFI/Linux');
    for (const e of rig.entries()) rmSync(join(linux, e));
    writeFileSync(join(linux, 'elastos-a.efi'), 'MZ fake UKI\nIMAGE_VERSION=5\n');
    await rig.reboot('a');
    rmSync(join(dir.path, 'state', 'update'), { recursive: true, force: true });
    await startDaemon();
    const slotB = fileHash(rig.slotImage('b'));
    const r = await elastos('update', 'install', bundles.v6 as string);
    assert.match(r.stderr, /^error E_UPDATE_ROLLBACK: version 6 is not above the floor 7/);
    assert.equal(fileHash(rig.slotImage('b')), slotB);
  });
});
