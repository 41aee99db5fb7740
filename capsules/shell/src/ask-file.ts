/**
 * The pending asks on disk (the shell's data dir, `asks.json`), so that a restart of the shell
 * does not drop requests whose requesters still wait: written whole, through a temporary file
 * and a rename, after each change; a missing or unreadable file is an empty queue.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Decision, DecisionRequest } from './policy.js';

export interface StoredAsk {
  ticket: string;
  request: DecisionRequest;
  since: string;
  reason: string;
  grant: Decision;
}

export function loadAsks(file: string | undefined): StoredAsk[] {
  if (!file) return [];
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as { asks?: unknown };
    return Array.isArray(v.asks) ? (v.asks as StoredAsk[]).filter((a) => typeof a?.ticket === 'string') : [];
  } catch {
    return [];
  }
}

export function saveAsks(file: string | undefined, asks: StoredAsk[]): void {
  if (!file) return;
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ asks })}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
