import { readFileSync } from 'node:fs';
import { ElastosError } from '../errors/index.js';
import type { AdminPeer } from './peer-cred.js';

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** Parses group(5) text; malformed lines are skipped, never thrown on. */
export function parseGroupFile(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length !== 4 || f[0] === '' || !/^\d+$/.test(f[2] ?? '')) continue;
    const gid = Number(f[2]);
    if (!Number.isSafeInteger(gid)) continue;
    out.push({ name: f[0] as string, gid, members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

/** The gid of a group by name, from /etc/group (read on each call so group edits apply at once). */
export function lookupGroup(name: string, groupFile = '/etc/group'): GroupEntry | undefined {
  let text: string;
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  return parseGroupFile(text).find((g) => g.name === name);
}

/**
 * The supplementary groups of a live process (proc(5) status `Groups:`), or [] when the pid is
 * gone or now belongs to another effective uid (a recycled pid must not lend its groups).
 */
export function processGroups(peer: AdminPeer, procDir = '/proc'): number[] {
  if (!Number.isSafeInteger(peer.pid) || peer.pid <= 0) return [];
  let status: string;
  try {
    status = readFileSync(`${procDir}/${peer.pid}/status`, 'utf8');
  } catch {
    return [];
  }
  const uids = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status);
  if (!uids || Number(uids[2]) !== peer.uid) return [];
  const groups = /^Groups:[ \t]*([\d \t]*)$/m.exec(status);
  return (groups?.[1] ?? '')
    .split(/\s+/)
    .filter((g) => g !== '')
    .map(Number);
}

export interface AdminGroupPolicy {
  /** The admin group's name (config `admin.group`). */
  group: string;
  groupFile?: string;
  procDir?: string;
}

/**
 * Root and processes in the admin group (primary or supplementary gid) may administer the box;
 * everyone else gets E_ADMIN_DENIED. Group membership is the process's, as the kernel holds it.
 */
export function adminGroupPolicy(policy: AdminGroupPolicy): (peer: AdminPeer) => void {
  return (peer) => {
    if (peer.uid === 0) return;
    const group = lookupGroup(policy.group, policy.groupFile);
    if (group && (peer.gid === group.gid || processGroups(peer, policy.procDir).includes(group.gid))) return;
    throw new ElastosError(
      'E_ADMIN_DENIED',
      group
        ? `uid ${peer.uid} is not in the admin group ${policy.group}`
        : `admin group ${policy.group} does not exist`,
    );
  };
}
