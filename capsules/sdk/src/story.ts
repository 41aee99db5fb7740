/**
 * A small helper for app capsules that narrate what they do: one line per step on stdout (the
 * supervisor keeps it in the capsule's log), and the code of a refusal instead of a crash.
 */
import { asCapsuleError } from './errors.js';

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs a step expected to succeed or to be refused; returns the value or the refusal's code. */
export async function attempt<T>(
  what: string,
  fn: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; code: string }> {
  try {
    const value = await fn();
    say(`ok      ${what}`);
    return { ok: true, value };
  } catch (err) {
    const e = asCapsuleError(err);
    say(`refused ${what}: ${e.code} (${e.message})`);
    return { ok: false, code: e.code };
  }
}

/** Keeps an app capsule alive (idle) until the supervisor stops it. */
export function idle(): void {
  const timer = setInterval(() => undefined, 1 << 30);
  process.on('SIGTERM', () => {
    clearInterval(timer);
    process.exit(0);
  });
}
