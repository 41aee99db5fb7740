import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Compiled test files (`dist/**\/*.test.js`) whose TypeScript source still exists (no stale output). */
export function findTestFiles(root: string, workspaces: string[]): string[] {
  const found: string[] = [];
  for (const ws of workspaces) {
    const dist = join(root, ws, 'dist');
    if (!existsSync(dist)) continue;
    walk(dist, (file) => {
      if (!file.endsWith('.test.js')) return;
      const source = join(root, ws, 'src', relative(dist, file)).replace(/\.js$/, '.ts');
      if (existsSync(source)) found.push(file);
    });
  }
  return found.sort();
}

function walk(dir: string, visit: (file: string) => void): void {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, visit);
    else visit(path);
  }
}
