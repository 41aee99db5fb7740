/** The boot test's checks and its report: each check passes or fails with a line; times and sizes are reported, never asserted. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;

export class Checks {
  readonly results: CheckResult[] = [];
  private readonly times: string[] = [];
  private readonly sizes: string[] = [];
  private readonly notes: string[] = [];

  /** `title` heads the report, `tag` starts each live line (the boot test's, the update test's). */
  constructor(
    private readonly title = 'image boot test',
    private readonly tag = 'image:test',
  ) {}

  get failed(): number {
    return this.results.filter((r) => !r.ok).length;
  }

  /** Runs one check; returns its value (or undefined when it failed). A string result is its detail. */
  async run<T>(
    name: string,
    fn: () => Promise<string | { detail: string; value: T }>,
  ): Promise<T | string | undefined> {
    const started = Date.now();
    try {
      const r = await fn();
      const detail = typeof r === 'string' ? r : r.detail;
      this.push({ name, ok: true, detail: `${detail} (${((Date.now() - started) / 1000).toFixed(0)} s)` });
      return typeof r === 'string' ? r : r.value;
    } catch (err) {
      this.fail(name, err);
      return undefined;
    }
  }

  fail(name: string, err: unknown): void {
    this.push({ name, ok: false, detail: (err as Error).message ?? String(err) });
  }

  time(what: string, seconds: number): void {
    this.times.push(`${what}: ${seconds.toFixed(0)} s`);
    process.stdout.write(`[${this.tag}] ${what}: ${seconds.toFixed(0)} s\n`);
  }

  size(what: string, bytes: number): void {
    this.sizes.push(`${what}: ${mib(bytes)}`);
  }

  /** A finding for the report (and the live output). */
  note(line: string): void {
    this.notes.push(line);
    this.say(line);
  }

  /** A live line only (pids, ports): not kept for the report. */
  say(line: string): void {
    process.stdout.write(`[${this.tag}] ${line}\n`);
  }

  private push(r: CheckResult): void {
    this.results.push(r);
    process.stdout.write(`[${this.tag}] ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}\n`);
  }

  print(arch: string): void {
    const out = process.stdout;
    out.write(`\n== ${this.title} (${arch}) report\n`);
    for (const t of this.times) out.write(`  time  ${t}\n`);
    for (const s of this.sizes) out.write(`  size  ${s}\n`);
    for (const n of this.notes) out.write(`  note  ${n}\n`);
    for (const r of this.results)
      out.write(
        `  ${r.ok ? 'pass' : 'FAIL'}  ${r.name}${r.ok ? '' : `\n        ${r.detail.split('\n').join('\n        ')}`}\n`,
      );
    out.write(`\n${this.results.length - this.failed} passed, ${this.failed} failed\n`);
  }
}
