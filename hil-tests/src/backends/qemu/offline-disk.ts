/**
 * The box's disk while it is off: files onto its FAT boot partition (mtools), and a change to
 * a file on its ext4 data partition (debugfs on the partition's offset), as someone with the
 * disk in hand would make it. No loop device, no mount.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Part {
  start: number;
  name?: string;
}

function partition(disk: string, name: string): number {
  const table = JSON.parse(execFileSync('sfdisk', ['-J', disk], { encoding: 'utf8' })) as {
    partitiontable: { sectorsize?: number; partitions: Part[] };
  };
  const p = table.partitiontable.partitions.find((x) => x.name === name);
  if (!p) throw new Error(`${disk}: no partition named ${name}`);
  return p.start * (table.partitiontable.sectorsize ?? 512);
}

/** Copies `file` onto the boot partition as `/NAME` (the box reads it at /boot/firmware/NAME). */
export function putOnBoot(disk: string, file: string, name: string): void {
  execFileSync('mcopy', ['-o', '-i', `${disk}@@${partition(disk, 'boot')}`, file, `::/${name}`]);
}

const debugfs = (dev: string, cmd: string, write = false) =>
  execFileSync('debugfs', [...(write ? ['-w'] : []), '-R', cmd, dev], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

/**
 * Replaces (or creates) `dir/name` on the data partition with the local file `from` (`dir` is
 * made); a replaced file keeps its owner (a capsule's data belongs to the capsule's uid).
 */
export function writeOnData(disk: string, dir: string, name: string, from: string): void {
  const dev = `${disk}?offset=${partition(disk, 'data')}`;
  const tmp = mkdtempSync(join(tmpdir(), 'hil-data-'));
  try {
    const req = join(tmp, 'req');
    const path = `${dir}/${name}`;
    let stat = '';
    try {
      stat = debugfs(dev, `stat ${path}`);
    } catch {
      // a new file
    }
    const owner = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(stat);
    const mk = dir
      .split('/')
      .filter((p) => p !== '')
      .map((_, i, a) => `mkdir /${a.slice(0, i + 1).join('/')}`);
    const chown = owner ? `\nsif ${path} uid ${owner[1]}\nsif ${path} gid ${owner[2]}` : '';
    writeFileSync(req, `${mk.join('\n')}\nrm ${path}\ncd ${dir}\nwrite ${from} ${name}${chown}\n`);
    execFileSync('debugfs', ['-w', '-f', req, dev], { stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Reads `path` from the data partition. */
export function readOnData(disk: string, path: string): string {
  const dev = `${disk}?offset=${partition(disk, 'data')}`;
  const tmp = mkdtempSync(join(tmpdir(), 'hil-data-'));
  try {
    debugfs(dev, `dump ${path} ${join(tmp, 'f')}`);
    return readFileSync(join(tmp, 'f'), 'utf8');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Appends a line to every `capsules/NAME/ID/code/main.js` under `dataPath` on the data partition. */
export function alterCapsuleOffline(disk: string, dataPath: string, name: string): void {
  const dev = `${disk}?offset=${partition(disk, 'data')}`;
  const base = `${dataPath}/capsules/${name}`;
  const ids = debugfs(dev, `ls -p ${base}`)
    .split('\n')
    .map((l) => l.split('/')[5])
    .filter((n): n is string => n?.startsWith('cap') === true);
  if (ids.length === 0) throw new Error(`no installed version of ${name} under ${base} on the disk`);
  const tmp = mkdtempSync(join(tmpdir(), 'hil-tamper-'));
  try {
    for (const id of ids) {
      const file = `${base}/${id}/code/main.js`;
      const local = join(tmp, 'main.js');
      debugfs(dev, `dump ${file} ${local}`);
      writeFileSync(local, `${readFileSync(local, 'utf8')}\n// tampered on the disk by the HIL rig\n`);
      // debugfs's `write` names a file in its current directory: cd first (one request file).
      const req = join(tmp, 'req');
      writeFileSync(req, `rm ${file}\ncd ${base}/${id}/code\nwrite ${local} main.js\n`);
      execFileSync('debugfs', ['-w', '-f', req, dev], { stdio: ['ignore', 'pipe', 'pipe'] });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
