// Reads the traces of a recording run (traced-launch) and prints, per syscall, how many capsule
// processes called it, marking those the allow list lacks. Only the capsule's own program counts:
// a process that exec'd Node (or the probe), and every thread or child it cloned.
//   node runtime/launcher/seccomp/record.mjs [/tmp/elastos-seccomp-record] [x86_64]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '/tmp/elastos-seccomp-record';
const arch = process.argv[3] ?? 'x86_64';
const table = JSON.parse(readFileSync(new URL(`./${arch}.json`, import.meta.url), 'utf8'));
const listed = new Set(table.groups.flatMap((g) => g.syscalls));
const seen = new Map(); // name -> number of traces that called it

for (const file of readdirSync(dir).filter((f) => f.startsWith('trace.'))) {
  const capsule = new Set();
  const names = new Set();
  for (const line of readFileSync(join(dir, file), 'utf8').split('\n')) {
    const m = /^(\d+)\s+(?:<\.\.\. (\w+) resumed>|(\w+)\()(.*)$/.exec(line);
    if (!m) continue;
    const [, pid, resumed, call, rest] = m;
    const name = resumed ?? call;
    // The launcher's own exec (by strace) is not the capsule's; the program's is.
    if (name === 'execve' && / = 0$/.test(rest) && !rest.includes('elastos-launch"')) capsule.add(pid);
    if (!capsule.has(pid)) continue;
    names.add(name);
    const child = /^(clone3?|fork|vfork)$/.test(name) ? / = (\d+)$/.exec(rest) : null;
    if (child) capsule.add(child[1]);
  }
  for (const n of names) seen.set(n, (seen.get(n) ?? 0) + 1);
}
const rows = [...seen].sort((a, b) => b[1] - a[1]);
for (const [name, n] of rows) process.stdout.write(`${listed.has(name) ? ' ' : '+'} ${name} ${n}\n`);
const missing = rows.filter(([n]) => !listed.has(n)).map(([n]) => n);
process.stdout.write(`\n${rows.length} distinct syscalls; not on the ${arch} list: ${missing.join(' ') || 'none'}\n`);
