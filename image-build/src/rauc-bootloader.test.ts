/**
 * RAUC's custom boot loader backend (overlay/usr/lib/elastos/rauc-bootloader) against an ESP
 * directory laid out the way systemd-boot leaves it: entries named elastos-SLOT[+LEFT[-DONE]].efi
 * whose .osrel carries IMAGE_VERSION. The renames are what systemd-boot and systemd-bless-boot read.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { profile } from './arch.js';
import { kernelCmdline } from './disk.js';
import { OVERLAY } from './image-tree.js';

const SCRIPT = join(OVERLAY, 'usr/lib/elastos/rauc-bootloader');
const ROOT_A = 'root=PARTUUID=6c1d1f0e-6f3a-4c63-9d2a-0000000000a1';
const ROOT_B = 'root=PARTUUID=6c1d1f0e-6f3a-4c63-9d2a-0000000000a2';

describe('rauc-bootloader (RAUC custom backend over systemd-boot entries)', () => {
  let esp: string;
  let linux: string;
  const run = (...args: string[]) => {
    const r = spawnSync('bash', [SCRIPT, ...args], {
      encoding: 'utf8',
      env: { ...process.env, ELASTOS_ESP: esp, ELASTOS_PROC_CMDLINE: join(esp, 'cmdline') },
    });
    return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
  };
  const uki = (name: string, version: number) =>
    writeFileSync(
      join(linux, name),
      Buffer.concat([Buffer.alloc(64), Buffer.from(`ID=elastos\nIMAGE_VERSION=${version}\n`)]),
    );
  const entries = () => readdirSync(linux).sort().join(' ');

  beforeEach(() => {
    esp = mkdtempSync(join(tmpdir(), 'esp-'));
    linux = join(esp, 'EFI/Linux');
    mkdirSync(linux, { recursive: true });
    writeFileSync(join(esp, 'cmdline'), `${ROOT_A} ro console=ttyS0\n`);
    uki('elastos-a.efi', 100);
  });
  afterEach(() => rmSync(esp, { recursive: true, force: true }));

  it('a fresh box: A is current, primary and good; B has no entry and is bad', () => {
    assert.equal(run('get-current').out, 'a');
    assert.equal(run('get-primary').out, 'a');
    assert.equal(run('get-state', 'a').out, 'good');
    assert.equal(run('get-state', 'b').out, 'bad');
  });

  it('an installed B (written as +0 by the hook) becomes primary with 3 counted tries', () => {
    uki('elastos-b+0.efi', 101);
    assert.equal(run('get-primary').out, 'a');
    assert.equal(run('set-primary', 'b').code, 0);
    assert.equal(entries(), 'elastos-a.efi elastos-b+3.efi');
    assert.equal(run('get-primary').out, 'b');
  });

  it('B with its tries used up (systemd-boot renamed it +0-3) is bad: A is primary again', () => {
    uki('elastos-b+0-3.efi', 101);
    assert.equal(run('get-state', 'b').out, 'bad');
    assert.equal(run('get-primary').out, 'a');
  });

  it('set-state good blesses (no counter), bad leaves no tries and keeps the count done', () => {
    uki('elastos-b+2-1.efi', 101);
    writeFileSync(join(esp, 'cmdline'), `${ROOT_B} ro\n`);
    assert.equal(run('get-current').out, 'b');
    assert.equal(run('set-state', 'b', 'bad').code, 0);
    assert.equal(entries(), 'elastos-a.efi elastos-b+0-1.efi');
    assert.equal(run('set-state', 'b', 'good').code, 0);
    assert.equal(entries(), 'elastos-a.efi elastos-b.efi');
  });

  it('undo: set-primary of the older slot marks the newer one bad', () => {
    uki('elastos-b.efi', 101);
    assert.equal(run('get-primary').out, 'b');
    assert.equal(run('set-primary', 'a').code, 0);
    assert.equal(entries(), 'elastos-a.efi elastos-b+0-0.efi');
    assert.equal(run('get-primary').out, 'a');
  });

  it("the image's own command lines (root under dm-verity): each names its slot", () => {
    const verity = { rootHash: 'ab'.repeat(32), hashOffset: 1048576 };
    for (const slot of ['a', 'b'] as const) {
      writeFileSync(join(esp, 'cmdline'), `${kernelCmdline(profile('amd64'), slot, verity)}\n`);
      assert.deepEqual(run('get-current'), { code: 0, out: slot, err: '' });
    }
    writeFileSync(join(esp, 'cmdline'), 'root=/dev/mapper/elastos-root ro\n');
    assert.match(run('get-current').err, /names no root slot/);
  });

  it('refuses unknown slots, states and commands, and a command line without a slot', () => {
    assert.notEqual(run('get-state', 'c').code, 0);
    assert.notEqual(run('set-state', 'a', 'maybe').code, 0);
    assert.notEqual(run('frobnicate').code, 0);
    writeFileSync(join(esp, 'cmdline'), 'root=/dev/sda1\n');
    const r = run('get-current');
    assert.notEqual(r.code, 0);
    assert.match(r.err, /names no root slot/);
  });
});
