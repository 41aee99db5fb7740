import { SingleBar } from 'cli-progress';

/** A progress report for long work (audit verify, install, image build). */
export interface Progress {
  /** Advances by n (default 1). */
  tick(n?: number): void;
  /** Sets the position, e.g. bytes or entries done. */
  update(value: number): void;
  /** Grows or shrinks the total when it is learnt late. */
  setTotal(total: number): void;
  stop(): void;
}

/**
 * A bar on stderr (stdout stays clean for --json) only when stderr is a TTY and --json is off;
 * otherwise a silent Progress with the same API, so callers never branch.
 */
export function createProgress(
  label: string,
  total: number,
  options: { json?: boolean; stream?: NodeJS.WriteStream } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.json === true || stream.isTTY !== true) {
    return { tick: () => {}, update: () => {}, setTotal: () => {}, stop: () => {} };
  }
  const bar = new SingleBar({
    stream,
    format: `${label} [{bar}] {percentage}% {value}/{total} eta {eta_formatted}`,
    barsize: 30,
    barCompleteChar: '\u2588',
    barIncompleteChar: '\u2591',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    noTTYOutput: false,
  });
  bar.start(total, 0);
  return {
    tick: (n = 1) => bar.increment(n),
    update: (value) => bar.update(value),
    setTotal: (t) => bar.setTotal(t),
    stop: () => bar.stop(),
  };
}
