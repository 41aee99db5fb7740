/**
 * Resource patterns against request scopes, as sets (capsules/shell/README.md "Matching").
 * A request's scope is what its token would cover at the runtime (runtime/spec/token.md §5.3):
 * an exact resource covers itself, a prefix scope (ending `/`, or `scheme://`) every resource
 * that starts with it. `list` reveals a folder's names, so a `list` scope is always a prefix.
 *
 * A pattern is a small automaton: `*` is one or more characters of one segment (never an empty
 * segment), `**` any run at all, anything else itself. Deny needs only an overlap (some resource
 * in the scope matches); allow needs containment (every resource in the scope matches).
 */

type Token = { kind: 'lit'; ch: string } | { kind: 'one' } | { kind: 'seg' } | { kind: 'any' };

export interface Pattern {
  readonly source: string;
  readonly tokens: readonly Token[];
}

export function compilePattern(source: string): Pattern {
  const tokens: Token[] = [];
  for (let i = 0; i < source.length; i++) {
    if (source.startsWith('**', i)) {
      tokens.push({ kind: 'any' });
      i++;
    } else if (source[i] === '*') tokens.push({ kind: 'one' }, { kind: 'seg' });
    else tokens.push({ kind: 'lit', ch: source[i] as string });
  }
  return { source, tokens };
}

/** Positions reachable without reading a character (`*`'s tail and `**` may match nothing). */
function closure(p: Pattern, states: Set<number>): Set<number> {
  const out = new Set(states);
  for (const s of out) {
    const t = p.tokens[s];
    if (t?.kind === 'seg' || t?.kind === 'any') out.add(s + 1);
  }
  return out;
}

function step(p: Pattern, states: Set<number>, ch: string): Set<number> {
  const next = new Set<number>();
  for (const s of states) {
    const t = p.tokens[s];
    if (t === undefined) continue;
    if (t.kind === 'lit' && t.ch === ch) next.add(s + 1);
    else if (t.kind === 'one' && ch !== '/') next.add(s + 1);
    else if (t.kind === 'seg' && ch !== '/') next.add(s);
    else if (t.kind === 'any') next.add(s);
  }
  return closure(p, next);
}

/** The automaton's states after reading `text` from the start. */
function run(p: Pattern, text: string): Set<number> {
  let states = closure(p, new Set([0]));
  for (let i = 0; i < text.length; i++) {
    states = step(p, states, text[i] as string);
    if (states.size === 0) break;
  }
  return states;
}

/** Whether the pattern matches one exact string. */
export function matches(p: Pattern, text: string): boolean {
  return run(p, text).has(p.tokens.length);
}

/** True when the scope is a prefix scope (runtime/spec/token.md §5.1). */
export function isPrefix(scope: string): boolean {
  return scope.endsWith('/');
}

/** The scope a request's token would cover for an action: `list` of a folder is a prefix. */
export function scopeOf(resource: string, action: string): string {
  return action === 'list' && !isPrefix(resource) ? `${resource}/` : resource;
}

/** Some resource in the scope matches the pattern (a remainder after a prefix can always be read). */
export function overlaps(p: Pattern, scope: string): boolean {
  return isPrefix(scope) ? run(p, scope).size > 0 : matches(p, scope);
}

/** Every resource in the scope matches the pattern: for a prefix, only a trailing `**` does. */
export function contains(p: Pattern, scope: string): boolean {
  if (!isPrefix(scope)) return matches(p, scope);
  const n = p.tokens.length;
  for (const s of run(p, scope)) {
    if (s < n && p.tokens.slice(s).every((t) => t.kind === 'any')) return true;
  }
  return false;
}
