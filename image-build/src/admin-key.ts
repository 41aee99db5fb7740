/**
 * An admin's SSH public key for the box (`--admin-key FILE.pub`): exactly one line
 * `TYPE BASE64 [comment]` whose base64 blob starts with the same TYPE (RFC 4253 §6.6), so a
 * private key, a certificate request, two keys or random text are refused with a code.
 */
import { readFileSync } from 'node:fs';
import { ElastosError } from '@elastos/runtime';

const TYPES = new Set([
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-rsa',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/** The authorized_keys line for an admin: the restricted wrapper, whatever the client asks (scripts/ssh/README.md). */
export const WRAPPER_OPTIONS = 'restrict,command="/usr/lib/elastos/elastos-ssh-wrapper"';

const refuse = (file: string, why: string): never => {
  throw new ElastosError('E_IMAGE_ADMIN_KEY', `${file}: ${why}`);
};

/** The blob's uint32-length-prefixed fields (RFC 4251 §5), or undefined unless they fill it exactly. */
function sshFields(raw: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  for (let at = 0; at < raw.length; ) {
    if (raw.length - at < 4) return undefined;
    const len = raw.readUInt32BE(at);
    if (raw.length - at - 4 < len) return undefined;
    out.push(raw.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** Parses `text` as one SSH public key; returns `TYPE BASE64 comment` normalised (no options). */
export function parseSshPublicKey(text: string, file = 'admin key'): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) refuse(file, `must hold exactly one public key line, found ${lines.length}`);
  const line = (lines[0] ?? '').trim();
  if (line.length > 16_384) refuse(file, 'line too long for a public key');
  if (line.includes('PRIVATE KEY')) refuse(file, 'this is a private key: give the .pub file');
  const [type = '', blob = '', ...comment] = line.split(/\s+/);
  if (!TYPES.has(type)) refuse(file, `not an SSH public key (unknown key type ${JSON.stringify(type.slice(0, 40))})`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) refuse(file, 'the key is not base64');
  const fields = sshFields(Buffer.from(blob, 'base64'));
  if (!fields || fields.length < 2 || fields[0]?.toString('latin1') !== type) {
    refuse(file, `the key blob does not hold a ${type} key`);
  }
  const safeComment = comment.join(' ').replace(/[^\x20-\x7e]/g, '');
  return [type, blob, safeComment].filter((s) => s !== '').join(' ');
}

export function readAdminKey(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return refuse(file, `cannot read: ${(err as Error).message}`);
  }
  return parseSshPublicKey(text, file);
}

/** The authorized_keys line for the box. */
export const adminKeyLine = (key: string) => `${WRAPPER_OPTIONS} ${key}\n`;
