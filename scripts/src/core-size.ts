import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Lines of the trusted core: TypeScript under runtime/src, `*.test.ts` excluded (as the before-stop hook counts). */
export function coreLineCount(repoRoot: string): number {
  let lines = 0;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
        lines += readFileSync(path, 'utf8').split('\n').length - 1;
      }
    }
  };
  walk(join(repoRoot, 'runtime', 'src'));
  return lines;
}

/** The figure the README states, from its line `The trusted core is N lines ...`. */
export function readmeCoreLineCount(readme: string): number | undefined {
  const m = /The trusted core is \*\*([\d,]+) lines\*\*/.exec(readme);
  return m?.[1] ? Number.parseInt(m[1].replaceAll(',', ''), 10) : undefined;
}
