import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { ElastosError } from '../errors/index.js';

/**
 * The files the Node binary needs to start: itself, its ELF interpreter and shared libraries, as
 * ldd(1) resolves them on this machine. Each is bound read-only at the same path in the view, so
 * nothing else of /usr (no /bin/sh, no other binaries) is visible to a capsule.
 */
export function nodeRuntimeFiles(nodePath: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [nodePath], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  } catch (cause) {
    throw new ElastosError('E_CONFINE_UNAVAILABLE', `cannot list the libraries of ${nodePath}`, { cause });
  }
  const files = new Set<string>([nodePath]);
  for (const line of out.split('\n')) {
    // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` or `/lib64/ld-linux-x86-64.so.2 (0x...)`
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (m?.[1]) files.add(m[1]);
  }
  return [...files];
}

/** Bind pairs `src:dst`: the real file (symlinks resolved) at the path the loader asks for. */
export function nodeBinds(nodePath: string): string[] {
  return nodeRuntimeFiles(nodePath).map((path) => `${realpathSync(path)}:${path}`);
}
