/**
 * What the box checks in a bundle before anything is written (runtime/spec/update.md §1):
 * `rauc info --keyring` verifies the CMS signature over the whole plain bundle and reads its
 * manifest (no mount: it extracts the manifest with unsquashfs); then the compatible string
 * against the box's RAUC config, and the version (a decimal integer, §4).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ElastosError } from '../errors/index.js';
import { MAX_VERSION } from './version-floor.js';

export interface BundleManifest {
  compatible: string;
  version: number;
  /** The signer's subject as RAUC printed it (for the audit record). */
  signer?: string;
}

interface RaucOut {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs rauc; never rejects (the exit status and output decide). */
export function runRauc(rauc: string, args: string[], timeoutMs = 600_000): Promise<RaucOut> {
  return new Promise((resolve) => {
    execFile(rauc, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr });
    });
  });
}

/** The last meaningful line of RAUC's output, for an error message. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/^rauc-\w+: [\d:.]+: /, '').trim());
  return lines.filter(Boolean).pop() ?? '';
}

/** RAUC's signature failures ("signature verification failed", "CMS", "certificate") vs the rest. */
function refusalCode(out: string): 'E_UPDATE_SIGNATURE' | 'E_UPDATE_INVALID' {
  return /signature|CMS|certificate|verify error|PKCS7|cms_/i.test(out) ? 'E_UPDATE_SIGNATURE' : 'E_UPDATE_INVALID';
}

/** `compatible=` of RAUC's system config. */
export function systemCompatible(systemConf: string): string {
  const m = /^\s*compatible\s*=\s*(\S+)\s*$/m.exec(readFileSync(systemConf, 'utf8'));
  if (!m?.[1]) throw new ElastosError('E_UPDATE_UNAVAILABLE', `${systemConf} names no compatible`);
  return m[1];
}

/** Parses a release version: a decimal integer 1..MAX_VERSION. */
export function parseVersion(v: unknown): number {
  if (typeof v !== 'string' || !/^[1-9]\d{0,6}$/.test(v) || Number(v) > MAX_VERSION)
    throw new ElastosError(
      'E_UPDATE_INVALID',
      `the bundle's version must be an integer 1..${MAX_VERSION}, not ${String(v)}`,
    );
  return Number(v);
}

/** Verifies the bundle against the keyring and the box's compatible; refuses with a code. */
export async function checkBundle(
  rauc: string,
  file: string,
  keyring: string,
  compatible: string,
): Promise<BundleManifest> {
  const r = await runRauc(rauc, ['info', `--keyring=${keyring}`, '--output-format=json', file]);
  if (r.code !== 0) throw new ElastosError(refusalCode(r.stderr), `rauc info: ${lastLine(r.stderr)}`);
  let info: { compatible?: unknown; version?: unknown };
  try {
    info = JSON.parse(r.stdout) as typeof info;
  } catch (cause) {
    throw new ElastosError('E_UPDATE_INVALID', 'rauc info printed no manifest', { cause });
  }
  if (info.compatible !== compatible)
    throw new ElastosError(
      'E_UPDATE_COMPATIBLE',
      `the bundle is for ${String(info.compatible)}, this box is ${compatible}`,
    );
  const signer = /Verified .*signature by '([^']*)'/.exec(r.stderr)?.[1];
  return { compatible, version: parseVersion(info.version), ...(signer ? { signer } : {}) };
}
