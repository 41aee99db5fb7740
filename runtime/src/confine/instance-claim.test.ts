import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { parseConfig } from '../config/index.js';
import { ElastosError } from '../errors/index.js';
import { type ClaimOptions, claimInstance, liveClaims } from './instance-claim.js';
import { overlaps, parseSubid } from './subid.js';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ElastosError) return err.code;
    throw err;
  }
  return 'started';
};

describe('runtime instances: cgroup parent and capsule uid range per instance', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  let opts: (o: Partial<ClaimOptions>) => ClaimOptions;
  beforeEach(() => {
    tmp = makeTempDir();
    const none = join(tmp.path, 'no-subuid');
    opts = (o) => ({
      registryDir: join(tmp.path, 'instances'),
      cgroupParent: 'a',
      uidBase: 1_000_000,
      uidCount: 100,
      runDir: tmp.path,
      subidFiles: [none],
      ...o,
    });
  });
  afterEach(() => tmp.remove());

  it('parses /etc/subuid lines and skips comments and garbage without throwing', () => {
    const text = 'alice:100000:65536\n# comment\nbob:165536:65536\nbad line\n:1:2\ncarol:x:1\n';
    assert.deepEqual(
      parseSubid(text, '/etc/subuid').map((r) => [r.owner, r.start, r.count]),
      [
        ['alice', 100000, 65536],
        ['bob', 165536, 65536],
      ],
    );
    assert.equal(overlaps(10, 5, 14, 1), true);
    assert.equal(overlaps(10, 5, 15, 1), false);
  });

  it("refuses a uid range in the host's subuid/subgid ranges; the default is off Debian's blocks", () => {
    const subgid = join(tmp.path, 'subgid');
    // Debian's useradd: SUB_UID_MIN 100000, blocks of 65536 up to SUB_UID_MAX 600100000.
    writeFileSync(subgid, 'alice:100000:65536\nlast:600100000:65536\n');
    const files = [join(tmp.path, 'none'), subgid];
    assert.equal(
      code(() => claimInstance(opts({ uidBase: 165_000, subidFiles: files }))),
      'E_CONFINE_UID_RANGE',
    );
    const defaults = parseConfig({ profile: 'dev', runDir: 'r', stateDir: 's' }, tmp.path).confine;
    assert.equal(overlaps(defaults.uidBase, defaults.uidCount, 100_000, 600_100_000 + 65_536 - 100_000), false);
    claimInstance(opts({ uidBase: defaults.uidBase, uidCount: defaults.uidCount, subidFiles: files }))();
  });

  it('refuses a second live instance with the same cgroup parent or an overlapping uid range', () => {
    const release = claimInstance(opts({}));
    assert.equal(
      code(() => claimInstance(opts({ uidBase: 2_000_000 }))),
      'E_CONFINE_INSTANCE',
    );
    assert.equal(
      code(() => claimInstance(opts({ cgroupParent: 'b', uidBase: 1_000_050 }))),
      'E_CONFINE_INSTANCE',
    );
    const other = claimInstance(opts({ cgroupParent: 'b', uidBase: 1_000_100 }));
    release();
    other();
    claimInstance(opts({}))();
    assert.deepEqual(liveClaims(join(tmp.path, 'instances')), []);
  });

  it("takes over a dead instance's claim (kill -9) and a dead holder's registry lock", () => {
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const pid = Number(dead.stdout.trim());
    const dir = join(tmp.path, 'instances');
    claimInstance(opts({}))();
    const claim = { pid, startTime: '1', cgroupParent: 'a', uidBase: 1_000_000, uidCount: 100, runDir: '/x' };
    writeFileSync(join(dir, `${pid}-a.json`), JSON.stringify(claim));
    writeFileSync(join(dir, '.lock'), `${pid} 1\n`);
    const release = claimInstance(opts({}));
    assert.equal(existsSync(join(dir, `${pid}-a.json`)), false);
    release();
    assert.deepEqual(readdirSync(dir), []);
  });

  it('refuses a parent whose capsule cgroups hold processes of a runtime that never claimed', () => {
    const occupied = () => ['/sys/fs/cgroup/memory/elastos/sysinfo'];
    assert.equal(
      code(() => claimInstance(opts({ occupied }))),
      'E_CONFINE_INSTANCE',
    );
  });
});
