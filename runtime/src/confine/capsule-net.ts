/**
 * A network-granted capsule's private network (runtime/launcher/README.md "Private network"): its
 * own network namespace with a veth pair to the host, both made by the launcher (`--unshare net
 * --veth elc<uid>`, veth.c), NAT to the outside and the egress policy of net-policy.ts (Debian's
 * nftables). No process is spawned for a plain grant; a LAN grant costs one `nft` transaction.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ElastosError } from '../errors/index.js';
import {
  lanCloseScript,
  lanOpenScript,
  noRouterScript,
  policyResetScript,
  policyScript,
  slotAddresses,
  VETH_PREFIX,
} from './net-policy.js';

export interface NetTools {
  nft: string;
  /** iproute2, only to remove a named namespace an older runtime left (`/run/netns/elastos-<uid>`). */
  ip?: string;
}

const TOOL_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
/** How long a release waits for the kernel to delete the pair with the namespace. */
const GONE_MS = 2000;

/** `nft` (nftables) where Debian installs it, and `ip` if present; undefined without nft. */
export function netTools(): NetTools | undefined {
  const find = (name: string) => TOOL_DIRS.map((d) => join(d, name)).find((p) => existsSync(p));
  const nft = find('nft');
  const ip = find('ip');
  if (nft === undefined || !existsSync(IP_FORWARD)) return undefined;
  return ip === undefined ? { nft } : { nft, ip };
}

export const netnsName = (uid: number) => `elastos-${uid}`;
export const vethName = (uid: number) => `${VETH_PREFIX}${uid}`;

/** A capsule's private network while it runs: what the launcher makes, and its removal. */
export interface CapsuleNet {
  /** The host end of the veth pair (`--veth`). */
  veth: string;
  /** Its inside (`--netns-ipv4 ADDR/30,GATEWAY`; the host end gets GATEWAY/30). */
  ipv4: string;
  /** The LAN ranges opened for it (policy-granted; net-policy.ts lanOpenScript). */
  lan: string[];
  release(): Promise<void>;
}

export class CapsuleNetwork {
  private policy: Promise<void> | undefined;
  /** Uids this runtime already cleaned: a LAN chain of an earlier runtime's run never outlives it here. */
  private readonly seen = new Set<number>();

  constructor(private readonly tools: NetTools) {}

  /**
   * What the launcher needs to make the capsule's namespace and veth pair (it waits for a leftover
   * of the same name to go, never deletes one), after the policy is loaded. `lan`: ranges policy granted
   * (checked by the caller), opened for its veth only. The first start of a uid under this runtime
   * also clears a LAN chain a crashed earlier runtime may have left under that veth's name.
   */
  async create(uid: number, lan: readonly string[] = []): Promise<CapsuleNet> {
    this.policy ??= this.loadPolicy();
    await this.policy.catch((err) => {
      this.policy = undefined; // tried again at the next granted start
      throw err;
    });
    const veth = vethName(uid);
    if (this.tools.ip !== undefined && existsSync(`/run/netns/${netnsName(uid)}`)) await this.removeNamed(uid);
    const { gateway, address } = slotAddresses(uid);
    const release = () => this.remove(uid, lan.length > 0);
    try {
      if (lan.length > 0) await this.nft(lanOpenScript(veth, lan));
      else if (!this.seen.has(uid)) await this.nft(lanCloseScript(veth));
      this.seen.add(uid);
    } catch (err) {
      await release();
      throw err;
    }
    return { veth, ipv4: `${address}/30,${gateway}`, lan: [...lan], release };
  }

  /**
   * After the capsule's processes are gone: its LAN chain closed (with `lan`), then the pair awaited
   * gone (the kernel deletes it with the namespace, a few ms to tens of ms later).
   */
  async remove(uid: number, lan = false): Promise<void> {
    if (lan) await this.nft(lanCloseScript(vethName(uid))).catch(() => undefined);
    const link = `/sys/class/net/${vethName(uid)}`;
    for (let waited = 0; existsSync(link) && waited < GONE_MS; waited += 5) await sleep(5);
  }

  /** A namespace and veth an older runtime made by name (`ip netns add`); quiet if absent. */
  private async removeNamed(uid: number): Promise<void> {
    const lines = [`link del ${vethName(uid)}`, `netns del ${netnsName(uid)}`];
    // -force goes through both lines; a failure only means they were already gone.
    await this.run(this.tools.ip ?? 'ip', ['-force', '-batch', '-'], lines).catch(() => undefined);
  }

  private nft(script: string): Promise<void> {
    return this.run(this.tools.nft, ['-f', '-'], [script]);
  }

  /** The egress policy, once per runtime; IPv4 forwarding on (the host routes capsule traffic only). */
  private async loadPolicy(): Promise<void> {
    if (readFileSync(IP_FORWARD, 'utf8').trim() !== '1') {
      await this.run(this.tools.nft, ['-f', '-'], [noRouterScript()]);
      writeFileSync(IP_FORWARD, '1');
    }
    // A table of another layout (an older runtime's) cannot be updated in place: it is replaced.
    await this.run(this.tools.nft, ['-f', '-'], [policyScript()]).catch(() =>
      this.run(this.tools.nft, ['-f', '-'], [policyResetScript(), policyScript()]),
    );
  }

  /** Runs one tool with its commands on stdin; a failure is E_CONFINE_UNAVAILABLE with its stderr. */
  private run(tool: string, args: string[], lines: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(tool, args, { stdio: ['pipe', 'ignore', 'pipe'], env: {} });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        stderr = (stderr + d).slice(-2000);
      });
      child.once('error', (cause) => reject(failure(tool, args, cause.message, cause)));
      child.once('exit', (code) =>
        code === 0 ? resolve() : reject(failure(tool, args, stderr.trim() || `exit ${code}`)),
      );
      child.stdin.end(`${lines.join('\n')}\n`);
    });
  }
}

const failure = (tool: string, args: string[], why: string, cause?: unknown) =>
  new ElastosError('E_CONFINE_UNAVAILABLE', `private network: ${tool} ${args.join(' ')}: ${why}`, { cause });
