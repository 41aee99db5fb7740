/**
 * A test that needs a kernel feature this machine lacks is skipped locally, and FAILS in CI
 * (CI=true): CI must never report green for a confinement test that did not run.
 */
export function requireFeature(ctx: Mocha.Context, available: boolean, what: string): void {
  if (available) return;
  if (process.env.CI) throw new Error(`CI: required kernel feature missing: ${what}`);
  ctx.skip();
}
