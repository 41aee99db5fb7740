/**
 * Resource URIs and prefix scopes (runtime/spec/token.md §5). Attacker-controlled strings:
 * every failure is E_RESOURCE_INVALID, never another exception.
 */
import { ElastosError } from '../errors/index.js';

export const MAX_RESOURCE_LENGTH = 1024;
export const MAX_SEGMENTS = 64;

const URI_RE = /^([a-z][a-z0-9+.-]{0,31}):\/\/([\s\S]*)$/;
const ESCAPE_RE = /%(?![0-9a-fA-F]{2})/;
// Forbidden in a decoded segment: separators, a second round of escapes, controls (spec §5.2).
const BAD_DECODED_RE = /[/\\%]/;
const isControl = (seg: string) => {
  for (let i = 0; i < seg.length; i++) {
    const c = seg.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
};

function invalid(why: string): ElastosError {
  return new ElastosError('E_RESOURCE_INVALID', `bad resource: ${why}`);
}

function decodeSegment(raw: string): string {
  if (raw === '') throw invalid('empty segment (doubled or leading slash)');
  if (ESCAPE_RE.test(raw)) throw invalid('bad percent escape');
  let seg: string;
  try {
    seg = decodeURIComponent(raw);
  } catch {
    throw invalid('percent escape is not UTF-8');
  }
  if (seg === '.' || seg === '..') throw invalid('dot segment');
  if (BAD_DECODED_RE.test(seg) || isControl(seg)) throw invalid('separator, escape or control character in a segment');
  return seg;
}

/**
 * The canonical form of a resource: escapes decoded, no dot or empty segments, no query or
 * fragment. A trailing `/` (or an empty path) makes it a prefix scope (spec §5.1).
 */
export function normaliseResource(uri: unknown): string {
  if (typeof uri !== 'string') throw invalid('not a string');
  if (uri.length > MAX_RESOURCE_LENGTH) throw invalid(`longer than ${MAX_RESOURCE_LENGTH}`);
  const m = URI_RE.exec(uri);
  if (!m) throw invalid('not scheme://path');
  const scheme = m[1] as string;
  const path = m[2] as string;
  if (path.includes('?') || path.includes('#')) throw invalid('query or fragment');
  if (path === '') return `${scheme}://`;
  const prefix = path.endsWith('/');
  const raw = (prefix ? path.slice(0, -1) : path).split('/');
  if (raw.length > MAX_SEGMENTS) throw invalid(`more than ${MAX_SEGMENTS} segments`);
  const segments = raw.map(decodeSegment);
  return `${scheme}://${segments.join('/')}${prefix ? '/' : ''}`;
}

/** True when a scope is a prefix scope (it ends at a segment boundary). */
export function isPrefixScope(canonical: string): boolean {
  return canonical.endsWith('/');
}

/**
 * Whether `scope` covers `resource`; both canonical. A prefix scope covers what starts with it,
 * and since it ends with `/`, `photos/` never covers `photos-private/` (spec §5.3).
 */
export function inScope(scope: string, resource: string): boolean {
  return isPrefixScope(scope) ? resource.startsWith(scope) : resource === scope;
}
