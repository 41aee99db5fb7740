/**
 * The egress policy of network-granted capsules (runtime/launcher/README.md "Private network"), as
 * nftables data. Every capsule's host-side veth is named `elc<uid>`; one table, `inet elastos`,
 * shared by every runtime on the host, holds the rules and is replaced whole (one transaction).
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

/** The whole table: created if absent, then replaced atomically (`nft -f -`). */
export function policyScript(): string {
  const capsule = `iifname "${VETH_PREFIX}*"`;
  const refuse = 'reject with icmpx type admin-prohibited';
  return `table inet elastos {}
delete table inet elastos
table inet elastos {
  set blocked4 {
    type ipv4_addr
    flags interval
    elements = { ${BLOCKED_V4.join(', ')} }
  }
  chain input {
    type filter hook input priority filter - 10; policy accept;
    ${capsule} ${refuse}
  }
  chain forward {
    type filter hook forward priority filter - 10; policy accept;
    ${capsule} meta nfproto ipv6 ${refuse}
    ${capsule} ip daddr @blocked4 ${refuse}
    ${capsule} accept
    oifname "${VETH_PREFIX}*" ct state established,related accept
    oifname "${VETH_PREFIX}*" drop
  }
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr ${CAPSULE_NET.prefix.join('.')}.0.0/16 oifname != "${VETH_PREFIX}*" masquerade
  }
}
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
