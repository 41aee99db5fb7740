import { readFileSync } from 'node:fs';

/** The runtime's version, read from its package.json (which ships beside dist/ in the image). */
export const RUNTIME_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
