import { styleText } from 'node:util';

type Stream = Pick<NodeJS.WriteStream, 'isTTY'> & { hasColors?: () => boolean };
type Painter = (text: string) => string;

/** Colour only on a TTY that has colours, and never when NO_COLOR is set (https://no-color.org). */
export function colourEnabled(stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined) return false;
  return stream.isTTY === true && (stream.hasColors?.() ?? false);
}

/** Styles for one stream: identity functions when colour is off. */
export function painter(stream: Stream = process.stdout): Record<'bold' | 'red' | 'green' | 'yellow' | 'dim', Painter> {
  const on = colourEnabled(stream);
  const make =
    (format: Parameters<typeof styleText>[0]): Painter =>
    (text) =>
      on ? styleText(format, text) : text;
  return { bold: make('bold'), red: make('red'), green: make('green'), yellow: make('yellow'), dim: make('dim') };
}

/** Bytes as a short human figure (1024-based, as free(1) and df -h print them). */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
