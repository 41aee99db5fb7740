/**
 * The egress policy of network-granted capsules (runtime/launcher/README.md "Private network"), as
 * nftables data. Every capsule's host-side veth is named `elc<uid>`; one table, `inet elastos`,
 * shared by every runtime on the host, holds the rules: its policy part is replaced in one
 * transaction, and each capsule's granted LAN ranges are a chain of their own.
 */

/** Capsule veths live in 10.231.0.0/16: a /30 per capsule (slot = uid mod 16384). */
export const CAPSULE_NET = { prefix: [10, 231], slots: 16_384 } as const;

/** The host-side interface name prefix (`elc<uid>`): the rules below match on it. */
export const VETH_PREFIX = 'elc';

/**
 * Destinations a capsule never reaches (IPv4): this host, its LAN and every private, shared,
 * link-local, multicast or reserved range (RFC 6890). No IPv6 leaves a capsule at all.
 */
export const BLOCKED_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/3',
];

const TABLE = 'inet elastos';
const REFUSE = 'reject with icmpx type admin-prohibited';

/**
 * The table's shared part, loaded in one transaction (`nft -f -`): created if absent, its policy
 * chains and `blocked4` replaced whole, while the `lanv` map and the per-capsule `lan_elc<uid>`
 * chains (lanOpenScript) of capsules already running, under this or another runtime, are kept.
 */
export function policyScript(): string {
  const capsule = `iifname "${VETH_PREFIX}*"`;
  return `table ${TABLE} {
  map lanv {
    type ifname : verdict
  }
  set blocked4 {
    type ipv4_addr
    flags interval
  }
  chain input {
    type filter hook input priority filter - 10; policy accept;
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
  }
}
flush chain ${TABLE} input
flush chain ${TABLE} forward
flush chain ${TABLE} postrouting
flush set ${TABLE} blocked4
add element ${TABLE} blocked4 { ${BLOCKED_V4.join(', ')} }
add rule ${TABLE} input ${capsule} ${REFUSE}
add rule ${TABLE} forward ${capsule} meta nfproto ipv6 ${REFUSE}
add rule ${TABLE} forward ${capsule} oifname != "${VETH_PREFIX}*" iifname vmap @lanv
add rule ${TABLE} forward ${capsule} ip daddr @blocked4 ${REFUSE}
add rule ${TABLE} forward ${capsule} accept
add rule ${TABLE} forward oifname "${VETH_PREFIX}*" ct state established,related accept
add rule ${TABLE} forward oifname "${VETH_PREFIX}*" drop
add rule ${TABLE} postrouting ip saddr ${CAPSULE_NET.prefix.join('.')}.0.0/16 oifname != "${VETH_PREFIX}*" masquerade
`;
}

/** The table removed, for a table of another layout that policyScript cannot update in place. */
export function policyResetScript(): string {
  return `table ${TABLE} {}\ndelete table ${TABLE}\n`;
}

const lanChain = (veth: string) => `lan_${veth}`;

/**
 * Opens the LAN ranges policy granted to one capsule (checked by the caller): its own chain,
 * jumped to from `forward` for packets from its veth to anything but another capsule, accepts
 * those destinations; everything else goes on to `blocked4`. Replaces what the veth had.
 */
export function lanOpenScript(veth: string, ranges: readonly string[]): string {
  const chain = lanChain(veth);
  return `add chain ${TABLE} ${chain}
flush chain ${TABLE} ${chain}
add rule ${TABLE} ${chain} ip daddr { ${ranges.join(', ')} } accept
add element ${TABLE} lanv { "${veth}" : jump ${chain} }
`;
}

/** Closes them again; quiet when there is nothing to close (made, then removed, in one transaction). */
export function lanCloseScript(veth: string): string {
  const chain = lanChain(veth);
  return `add chain ${TABLE} ${chain}
add element ${TABLE} lanv { "${veth}" : jump ${chain} }
delete element ${TABLE} lanv { "${veth}" }
flush chain ${TABLE} ${chain}
delete chain ${TABLE} ${chain}
`;
}

/**
 * Only when the runtime itself turned IPv4 forwarding on: the host keeps forwarding nothing but
 * capsule traffic (it did not route before; it must not become a router between its other links).
 */
export function noRouterScript(): string {
  return `table inet elastos_noroute {}
delete table inet elastos_noroute
table inet elastos_noroute {
  chain forward {
    type filter hook forward priority filter - 20; policy accept;
    iifname != "${VETH_PREFIX}*" oifname != "${VETH_PREFIX}*" drop
  }
}
`;
}

/** The /30 of one capsule: its host side (gateway) and its own address. */
export function slotAddresses(uid: number): { gateway: string; address: string } {
  const slot = uid % CAPSULE_NET.slots;
  const [a, b] = CAPSULE_NET.prefix;
  const c = slot >> 6;
  const d = (slot & 63) << 2;
  return { gateway: `${a}.${b}.${c}.${d + 1}`, address: `${a}.${b}.${c}.${d + 2}` };
}
