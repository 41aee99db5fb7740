/**
 * LAN ranges a network-granted capsule may name in its manifest (`network.lan`,
 * runtime/spec/capsule-package.md §3.1): IPv4 CIDRs inside the private (RFC 1918) or link-local
 * (RFC 3927) ranges, canonical, at most MAX_LAN_RANGES. Attacker-controlled strings: every
 * problem is a one-line reason, never an exception.
 */

export const MAX_LAN_RANGES = 8;

/** Where a named range must lie. */
export const LAN_PARENTS = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16'] as const;

/**
 * The capsules' own veth links (runtime/src/confine/net-policy.ts `CAPSULE_NET`): a range that
 * overlaps it would open one capsule to another, so none may.
 */
export const CAPSULE_LINKS = '10.231.0.0/16';

interface Cidr {
  /** The first address, as an unsigned 32-bit number. */
  base: number;
  bits: number;
}

const CIDR_RE =
  /^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\/([0-9]|[12][0-9]|3[0-2])$/;

/** `a.b.c.d/n` with no leading zeros; undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const m = CIDR_RE.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { base, bits: Number(m[5]) };
}

const size = (c: Cidr) => 2 ** (32 - c.bits);
const within = (inner: Cidr, outer: Cidr) =>
  inner.bits >= outer.bits && Math.floor(inner.base / size(outer)) === Math.floor(outer.base / size(outer));
const overlap = (a: Cidr, b: Cidr) => within(a, b) || within(b, a);
const cidr = (text: string) => parseCidr(text) as Cidr;

/** Why one range may not be named, or undefined when it may. */
export function lanRangeProblem(text: string): string | undefined {
  const c = parseCidr(text);
  if (c === undefined) return 'is not an IPv4 CIDR a.b.c.d/n';
  if (c.base % size(c) !== 0) return 'has host bits set (name the network address)';
  if (!LAN_PARENTS.some((p) => within(c, cidr(p))))
    return `is not inside a private or link-local range (${LAN_PARENTS.join(', ')})`;
  if (overlap(c, cidr(CAPSULE_LINKS))) return `overlaps the capsules' own links (${CAPSULE_LINKS})`;
  return undefined;
}

/**
 * The first problem of a list of ranges (`field` names it in the message), or undefined: each
 * range valid, at most MAX_LAN_RANGES, none overlapping another.
 */
export function lanRangesProblem(ranges: readonly string[], field: string): string | undefined {
  if (ranges.length > MAX_LAN_RANGES) return `${field}: more than ${MAX_LAN_RANGES} ranges`;
  for (const [i, r] of ranges.entries()) {
    const why = lanRangeProblem(r);
    if (why) return `${field}[${i}]: ${r.slice(0, 40)} ${why}`;
    const other = ranges.slice(0, i).find((o) => overlap(cidr(o), cidr(r)));
    if (other !== undefined) return `${field}[${i}]: ${r} overlaps ${other}`;
  }
  return undefined;
}
