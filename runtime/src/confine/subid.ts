import { readFileSync } from 'node:fs';

/** One line of /etc/subuid or /etc/subgid (subuid(5)): `owner:start:count`. */
export interface SubidRange {
  file: string;
  owner: string;
  start: number;
  count: number;
}

export const SUBID_FILES = ['/etc/subuid', '/etc/subgid'] as const;

/** Parses subuid(5) text; malformed lines and comments are skipped, never thrown on. */
export function parseSubid(text: string, file: string): SubidRange[] {
  const out: SubidRange[] = [];
  for (const line of text.split('\n')) {
    const m = /^([^:#\s][^:]*):(\d+):(\d+)\s*$/.exec(line);
    if (!m) continue;
    const [, owner = '', start, count] = m;
    out.push({ file, owner, start: Number(start), count: Number(count) });
  }
  return out;
}

/** The ranges delegated on this host; a missing file delegates nothing. */
export function readSubids(files: readonly string[] = SUBID_FILES): SubidRange[] {
  return files.flatMap((file) => {
    try {
      return parseSubid(readFileSync(file, 'utf8'), file);
    } catch {
      return [];
    }
  });
}

/** True when [aStart, aStart+aCount) and [bStart, bStart+bCount) share an id. */
export function overlaps(aStart: number, aCount: number, bStart: number, bCount: number): boolean {
  return aStart < bStart + bCount && bStart < aStart + aCount;
}
