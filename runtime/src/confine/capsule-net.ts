/**
 * A network-granted capsule's private network (runtime/launcher/README.md "Private network"): its
 * own network namespace with a veth pair to the host, NAT to the outside and the egress policy of
 * net-policy.ts (Debian's iproute2 and nftables). The launcher joins the namespace (`--netns`).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  ip: string;
  nft: string;
}

const TOOL_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** `ip` (iproute2) and `nft` (nftables), where Debian installs them; undefined when either is missing. */
export function netTools(): NetTools | undefined {
  const find = (name: string) => TOOL_DIRS.map((d) => join(d, name)).find((p) => existsSync(p));
  const ip = find('ip');
  const nft = find('nft');
  return ip !== undefined && nft !== undefined && existsSync(IP_FORWARD) ? { ip, nft } : undefined;
}

export const netnsName = (uid: number) => `elastos-${uid}`;
export const vethName = (uid: number) => `${VETH_PREFIX}${uid}`;

/** A capsule's private network while it runs: the namespace path for the launcher, and its removal. */
export interface CapsuleNet {
  path: string;
  /** Its inside, configured by the launcher once it joined (`--netns-ipv4 ADDR/30,GATEWAY`). */
  ipv4: string;
  /** The LAN ranges opened for it (policy-granted; net-policy.ts lanOpenScript). */
  lan: string[];
  release(): Promise<void>;
}

export class CapsuleNetwork {
  private policy: Promise<void> | undefined;

  constructor(private readonly tools: NetTools) {}

  /**
   * Makes the capsule's namespace and veth pair, the host side addressed and up (one `ip` process;
   * the launcher configures the inside: loopback, eth0's address, the default route). Leftovers of a crashed
   * run under the same uid (the uid range is this runtime's own) are removed first. `lan`: ranges
   * policy granted (checked by the caller), opened for its veth only (one `nft` process more).
   */
  async create(uid: number, lan: readonly string[] = []): Promise<CapsuleNet> {
    this.policy ??= this.loadPolicy();
    await this.policy.catch((err) => {
      this.policy = undefined; // tried again at the next granted start
      throw err;
    });
    const ns = netnsName(uid);
    const veth = vethName(uid);
    if (existsSync(`/run/netns/${ns}`) || existsSync(`/sys/class/net/${veth}`)) await this.remove(uid, true);
    const { gateway, address } = slotAddresses(uid);
    const release = () => this.remove(uid, lan.length > 0);
    try {
      await this.run(
        this.tools.ip,
        ['-batch', '-'],
        [
          `netns add ${ns}`,
          `link add ${veth} type veth peer name eth0 netns ${ns}`,
          `addr add ${gateway}/30 dev ${veth}`,
          `link set ${veth} up`,
        ],
      );
      if (lan.length > 0) await this.run(this.tools.nft, ['-f', '-'], [lanOpenScript(veth, lan)]);
    } catch (err) {
      await release();
      throw err;
    }
    return { path: `/run/netns/${ns}`, ipv4: `${address}/30,${gateway}`, lan: [...lan], release };
  }

  /**
   * Removes the capsule's veth pair and namespace (after its processes are gone), and with `lan`
   * its LAN chain (first: a range never outlives the removal); quiet if absent.
   */
  async remove(uid: number, lan = false): Promise<void> {
    if (lan) await this.run(this.tools.nft, ['-f', '-'], [lanCloseScript(vethName(uid))]).catch(() => undefined);
    const lines = [`link del ${vethName(uid)}`, `netns del ${netnsName(uid)}`];
    // -force goes through both lines; a failure only means they were already gone.
    await this.run(this.tools.ip, ['-force', '-batch', '-'], lines).catch(() => undefined);
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
