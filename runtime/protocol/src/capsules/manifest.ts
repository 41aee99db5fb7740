/**
 * The capsule manifest (runtime/spec/capsule-package.md §3): UTF-8 JSON, at most
 * MAX_MANIFEST_BYTES, validated by MANIFEST_SCHEMA. Every field is explicit (no defaults), so
 * what the publisher signed is exactly what the runtime enforces.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { ElastosError } from '../errors/index.js';
import { lanRangesProblem, MAX_LAN_RANGES } from './lan-range.js';

export const MAX_MANIFEST_BYTES = 16 * 1024;

export type CapsuleType = 'app' | 'provider' | 'shell';

export interface CapabilityRequest {
  /** Resource pattern, e.g. `storage://photos/*` (the token spec defines matching). */
  resource: string;
  actions: string[];
}

export interface ResourceLimits {
  memoryMiB: number;
  pids: number;
  /** Percent of one CPU core (100 = one full core). */
  cpuPercent: number;
  /** Disk quota of its data, in MiB (8-65536); absent: the runtime's default (confine.diskBytes). */
  diskMiB?: number;
}

/** A network grant that also names LAN ranges (lan-range.ts); policy must still grant each. */
export interface NetworkRequest {
  lan: string[];
}

export interface CapsuleManifest {
  name: string;
  version: string;
  /** Key id of the signing publisher key (hex of the first 8 bytes of SHA-256(publicKey)). */
  publisher: string;
  type: CapsuleType;
  /** Path of the entry module among the package's files. */
  entry: string;
  description?: string;
  capabilities: CapabilityRequest[];
  /** Resource schemes a provider serves (e.g. `storage`). */
  provides?: string[];
  limits: ResourceLimits;
  /** `true`: network access (the internet only); `{lan}`: that and these LAN ranges, if policy grants them. */
  network: boolean | NetworkRequest;
}

/** Relative POSIX path of a package file: no `.`/`..`/hidden segments, no empty segments. */
export const FILE_PATH_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*){0,15}$';
export const NAME_PATTERN = '^[a-z][a-z0-9-]{0,62}$';
const KEY_ID_PATTERN = '^[0-9a-f]{16}$';

export const MANIFEST_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version', 'publisher', 'type', 'entry', 'capabilities', 'limits', 'network'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    version: { type: 'string', pattern: '^(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})\\.(0|[1-9][0-9]{0,8})$' },
    publisher: { type: 'string', pattern: KEY_ID_PATTERN },
    type: { type: 'string', enum: ['app', 'provider', 'shell'] },
    entry: { type: 'string', maxLength: 240, pattern: FILE_PATH_PATTERN },
    description: { type: 'string', maxLength: 200 },
    capabilities: {
      type: 'array',
      maxItems: 64,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['resource', 'actions'],
        properties: {
          resource: { type: 'string', minLength: 4, maxLength: 512, pattern: '^[a-z][a-z0-9+.-]*://[\\x21-\\x7e]*$' },
          actions: {
            type: 'array',
            minItems: 1,
            maxItems: 16,
            uniqueItems: true,
            // A base action, `invoke:<method>` (runtime/spec/token.md §2), or `*`.
            items: { type: 'string', pattern: '^([a-z][a-z0-9.-]{0,31}|invoke:[a-zA-Z][a-zA-Z0-9_.-]{0,63}|\\*)$' },
          },
        },
      },
    },
    provides: {
      type: 'array',
      maxItems: 16,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[a-z][a-z0-9+.-]{0,31}$' },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      required: ['memoryMiB', 'pids', 'cpuPercent'],
      properties: {
        memoryMiB: { type: 'integer', minimum: 16, maximum: 4096 },
        pids: { type: 'integer', minimum: 1, maximum: 1024 },
        cpuPercent: { type: 'integer', minimum: 1, maximum: 800 },
        diskMiB: { type: 'integer', minimum: 8, maximum: 65_536 },
      },
    },
    network: {
      anyOf: [
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          required: ['lan'],
          properties: {
            lan: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_LAN_RANGES,
              uniqueItems: true,
              items: { type: 'string', maxLength: 18 },
            },
          },
        },
      ],
    },
  },
} as const;

const ajv = new Ajv({ strict: true, allErrors: false });
const validate = ajv.compile<CapsuleManifest>(MANIFEST_SCHEMA);

function describe(error: ErrorObject): string {
  const field = error.instancePath.replace(/^\//, '').replaceAll('/', '.') || '(root)';
  if (error.keyword === 'additionalProperties') {
    return `${field}: unknown field ${(error.params as { additionalProperty: string }).additionalProperty}`;
  }
  return `${field}: ${error.message ?? 'is invalid'}`;
}

/** The most specific error: for a union (`network`), the branch whose type matched and got furthest. */
function deepest(errors: ErrorObject[] | null | undefined): ErrorObject | undefined {
  const depth = (e: ErrorObject) => e.instancePath.length * 2 + (e.keyword === 'type' || e.keyword === 'anyOf' ? 0 : 1);
  return errors?.reduce<ErrorObject | undefined>(
    (best, e) => (best === undefined || depth(e) > depth(best) ? e : best),
    undefined,
  );
}

/** Validates a parsed manifest object; E_CAPSULE_INVALID names the first bad field. */
export function validateManifest(value: unknown): CapsuleManifest {
  if (!validate(value)) {
    const first = deepest(validate.errors);
    throw new ElastosError('E_CAPSULE_INVALID', `manifest ${first ? describe(first) : 'is invalid'}`);
  }
  const problem = lanRangesProblem(lanRangesOf(value), 'network.lan');
  if (problem) throw new ElastosError('E_CAPSULE_INVALID', `manifest ${problem}`);
  return value;
}

/** The LAN ranges a manifest names (none unless `network` is `{lan}`). */
export function lanRangesOf(manifest: CapsuleManifest): string[] {
  return typeof manifest.network === 'object' ? manifest.network.lan : [];
}

/** Parses manifest bytes from an untrusted package: size cap, strict UTF-8, JSON, schema. */
export function parseManifest(bytes: Uint8Array): CapsuleManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new ElastosError('E_CAPSULE_INVALID', `manifest is ${bytes.length} bytes (cap ${MAX_MANIFEST_BYTES})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new ElastosError('E_CAPSULE_INVALID', 'manifest is not UTF-8 JSON');
  }
  return validateManifest(value);
}

/** The manifest's canonical bytes as packers write them: keys in schema order, no whitespace. */
export function encodeManifest(manifest: CapsuleManifest): Uint8Array {
  const order = Object.keys(MANIFEST_SCHEMA.properties);
  const sorted = Object.fromEntries(
    order.filter((k) => k in manifest).map((k) => [k, manifest[k as keyof CapsuleManifest]]),
  );
  return new TextEncoder().encode(JSON.stringify(sorted));
}

/** Compares MAJOR.MINOR.PATCH versions (schema-valid ones): negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
