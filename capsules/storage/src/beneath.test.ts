import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { FileStore } from './file-store.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};
const bytes = (s: string) => Buffer.from(s);

describe('storage provider: links, names, folders, filesystems, quota shares, abandoned uploads', () => {
  const dir = makeTempDir('storage-links-');
  after(() => dir.remove());

  /** A store whose files/ holds planted links: to its own config, to a folder outside, to /proc/self. */
  function planted(name: string, config = { quotaBytes: 1000 }) {
    const root = join(dir.path, name);
    const outside = join(dir.path, `${name}-outside`);
    mkdirSync(join(root, 'files', 'notes'), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'secret.txt'), 'outside');
    writeFileSync(join(root, 'config.json'), JSON.stringify(config));
    symlinkSync('../../config.json', join(root, 'files', 'notes', 'config'));
    symlinkSync(outside, join(root, 'files', 'notes', 'out'));
    symlinkSync('/proc/self', join(root, 'files', 'notes', 'self'));
    return { root, outside, store: new FileStore(root) };
  }

  it('never follows a link to read, list, write or delete; deleting a link removes only the link', () => {
    const { root, outside, store } = planted('a');
    for (const r of ['storage://notes/config', 'storage://notes/out/secret.txt', 'storage://notes/self/environ'])
      assert.equal(
        codeOf(() => store.read(r, 0, 100)),
        'E_STORAGE_LINK',
        `read ${r}`,
      );
    for (const r of ['storage://notes/out/', 'storage://notes/self/'])
      assert.equal(
        codeOf(() => store.list(r)),
        'E_STORAGE_LINK',
        `list ${r}`,
      );
    assert.equal(
      codeOf(() => store.write('app', 'storage://notes/out/new.txt', 0, bytes('x'), true)),
      'E_STORAGE_LINK',
    );
    assert.equal(
      codeOf(() => store.delete('storage://notes/out/secret.txt')),
      'E_STORAGE_LINK',
    );
    assert.deepEqual(readdirSync(outside), ['secret.txt'], 'nothing written or deleted outside');
    // Writing over a link replaces the link: its target (storage's own config) is untouched.
    store.write('app', 'storage://notes/config', 0, bytes('garbage'), true);
    assert.equal(readFileSync(join(root, 'config.json'), 'utf8'), JSON.stringify({ quotaBytes: 1000 }));
    assert.equal(lstatSync(join(root, 'files', 'notes', 'config')).isFile(), true);
    store.delete('storage://notes/out');
    assert.equal(existsSync(join(outside, 'secret.txt')), true, 'the link went, not its target');
    assert.doesNotThrow(() => new FileStore(root), 'storage still starts');
  });

  it('refuses a served tree that is itself a link', () => {
    const root = join(dir.path, 'b');
    mkdirSync(join(root, 'elsewhere'), { recursive: true });
    symlinkSync(join(root, 'elsewhere'), join(root, 'files'));
    const store = new FileStore(root);
    assert.equal(
      codeOf(() => store.list('storage://')),
      'E_STORAGE_LINK',
    );
  });

  it('lists a folder with a dangling link in it (the link is shown, not followed)', () => {
    const { root, store } = planted('c');
    symlinkSync('/nonexistent/elastos', join(root, 'files', 'notes', 'dangling'));
    store.write('app', 'storage://notes/todo.txt', 0, bytes('milk'), true);
    assert.deepEqual(store.list('storage://notes/'), [
      { name: 'config', size: 0, dir: false, link: true },
      { name: 'dangling', size: 0, dir: false, link: true },
      { name: 'out', size: 0, dir: false, link: true },
      { name: 'self', size: 0, dir: false, link: true },
      { name: 'todo.txt', size: 4, dir: false },
    ]);
  });

  it('refuses a name longer than 255 bytes with E_RESOURCE_INVALID', () => {
    const store = new FileStore(join(dir.path, 'd'));
    const long = `storage://notes/${'x'.repeat(256)}`;
    assert.equal(
      codeOf(() => store.write('app', long, 0, bytes('x'), true)),
      'E_RESOURCE_INVALID',
    );
    assert.equal(
      codeOf(() => store.read(long, 0, 1)),
      'E_RESOURCE_INVALID',
    );
    assert.equal(
      codeOf(() => store.list(`${long}/`)),
      'E_RESOURCE_INVALID',
    );
  });

  it('a folder resource never names a file: notes/todo.txt/ does not read it', () => {
    const store = new FileStore(join(dir.path, 'e'));
    store.write('app', 'storage://notes/todo.txt', 0, bytes('milk'), true);
    assert.equal(
      codeOf(() => store.read('storage://notes/todo.txt/', 0, 10)),
      'E_RESOURCE_INVALID',
    );
    assert.equal(
      codeOf(() => store.delete('storage://notes/todo.txt/')),
      'E_RESOURCE_INVALID',
    );
    assert.equal(
      codeOf(() => store.list('storage://notes/todo.txt/')),
      'E_NOT_FOUND',
    );
    assert.equal(
      codeOf(() => store.read('storage://notes/todo.txt/x', 0, 10)),
      'E_NOT_FOUND',
    );
  });

  it('a FIFO in the tree does not hang a read', () => {
    const root = join(dir.path, 'f');
    const store = new FileStore(root);
    execFileSync('mkfifo', [join(root, 'files', 'pipe')]);
    assert.equal(
      codeOf(() => store.read('storage://pipe', 0, 10)),
      'E_NOT_FOUND',
    );
  });

  it('a rename across filesystems is E_STORAGE_XDEV (a tmpfs mounted inside the tree)', () => {
    const root = join(dir.path, 'g');
    const store = new FileStore(root);
    const mnt = join(root, 'files', 'mnt');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'elastos-test', mnt]);
    try {
      assert.equal(
        codeOf(() => store.write('app', 'storage://mnt/x', 0, bytes('x'), true)),
        'E_STORAGE_XDEV',
      );
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('one caller cannot fill the quota shared by all: each has a share, kept across a restart', () => {
    const root = join(dir.path, 'h');
    mkdirSync(root);
    writeFileSync(join(root, 'config.json'), JSON.stringify({ quotaBytes: 100, callerQuotaBytes: 40 }));
    const store = new FileStore(root);
    store.write('greedy', 'storage://a', 0, Buffer.alloc(30), true);
    store.write('greedy', 'storage://b', 0, Buffer.alloc(5), false);
    assert.equal(
      codeOf(() => store.write('greedy', 'storage://c', 0, Buffer.alloc(10), true)),
      'E_CAPSULE_QUOTA',
      'files and uploads in progress both count',
    );
    store.write('modest', 'storage://d', 0, Buffer.alloc(40), true);
    const again = new FileStore(root);
    assert.equal(
      codeOf(() => again.write('greedy', 'storage://c', 0, Buffer.alloc(11), true)),
      'E_CAPSULE_QUOTA',
    );
    again.write('greedy', 'storage://c', 0, Buffer.alloc(10), true);
    again.delete('storage://a');
    again.write('greedy', 'storage://e', 0, Buffer.alloc(30), true);
    assert.equal(again.used, 80);
  });

  it('removes abandoned uploads: idle ones while running, all at a start', () => {
    const root = join(dir.path, 'i');
    mkdirSync(root);
    writeFileSync(join(root, 'config.json'), JSON.stringify({ quotaBytes: 100, stagingIdleMs: 60_000 }));
    let now = 1_000_000;
    const store = new FileStore(root, { now: () => now });
    store.write('app', 'storage://big', 0, Buffer.alloc(20), false);
    assert.equal(store.used, 20);
    now += 61_000;
    store.write('other', 'storage://small', 0, Buffer.alloc(1), true);
    assert.equal(store.used, 1, 'the idle upload no longer counts');
    assert.deepEqual(readdirSync(join(root, 'staging')), []);
    store.write('app', 'storage://big2', 0, Buffer.alloc(5), false);
    const restarted = new FileStore(root);
    assert.deepEqual(readdirSync(join(root, 'staging')), []);
    assert.equal(restarted.used, 1);
  });

  it('refuses a garbage or linked config.json with a code (not a crash)', () => {
    const root = join(dir.path, 'j');
    mkdirSync(root);
    writeFileSync(join(root, 'config.json'), 'garbage');
    assert.equal(
      codeOf(() => new FileStore(root)),
      'E_CONFIG_PARSE',
    );
    writeFileSync(join(root, 'config.json'), JSON.stringify({ quotaBytes: -1 }));
    assert.equal(
      codeOf(() => new FileStore(root)),
      'E_CONFIG_INVALID',
    );
    writeFileSync(join(root, 'real.json'), '{}');
    execFileSync('ln', ['-sf', join(root, 'real.json'), join(root, 'config.json')]);
    assert.equal(
      codeOf(() => new FileStore(root)),
      'E_CONFIG_INVALID',
    );
  });
});
