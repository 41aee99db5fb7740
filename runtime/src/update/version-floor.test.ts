/**
 * The version floor on swtpm (runtime/spec/update.md §4): it starts at 0 whatever the TPM's
 * counters did before, only goes up, survives a new connection (and so a reflashed disk: nothing
 * of it is on the disk), and a redefined base counter is refused (E_UPDATE_FLOOR), never read as
 * a lower floor.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Tpm } from '@elastos/node-tpm2';
import { makeTempDir, Swtpm } from '@elastos/testkit';
import { TpmNvCounter } from '../boot/nv-counter.js';
import { VersionFloor } from './version-floor.js';

const FLOOR = 0x01000a20;
const BASE = 0x01000a21;
const OTHER = 0x01000a30;

describe('update version floor (TPM NV counters, swtpm)', function () {
  this.timeout(30_000);
  const dir = makeTempDir('version-floor-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  let tpm: Tpm;
  const open = () => VersionFloor.open(tpm, FLOOR, BASE);

  before(async () => {
    await swtpm.start();
    tpm = await Tpm.open(swtpm.tcti);
    // Another counter used a lot first (the audit anchor's): a new counter starts at its value.
    const other = await TpmNvCounter.open(tpm, OTHER);
    for (let i = 0; i < 20; i++) await other.increment();
  });
  after(async () => {
    await tpm.close();
    await swtpm.stop();
    dir.remove();
  });

  it('starts at 0 although the TPM counted before', async () => {
    assert.ok((await (await TpmNvCounter.open(tpm, OTHER)).read()) > 20);
    assert.equal(await (await open()).read(), 0);
  });

  it('rises to a version, never falls, and is the same on a new connection', async () => {
    const f = await open();
    assert.equal(await f.raiseTo(7), 7);
    assert.equal(await f.raiseTo(3), 7);
    await tpm.close();
    tpm = await Tpm.open(swtpm.tcti);
    assert.equal(await (await open()).read(), 7);
  });

  it('a version beyond MAX_VERSION is refused before any increment', async () => {
    await assert.rejects((await open()).raiseTo(2_000_000), { code: 'E_UPDATE_INVALID' });
    assert.equal(await (await open()).read(), 7);
  });

  it('a removed base counter is refused (not redefined: it would read as a lower floor)', async () => {
    await tpm.nvUndefine(BASE);
    await assert.rejects(open(), { code: 'E_UPDATE_FLOOR' });
    await assert.rejects(open(), { code: 'E_UPDATE_FLOOR' });
  });
});
