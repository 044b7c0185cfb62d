import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

type Write = typeof process.stdout.write;

export interface CapturedOutput {
  /** Writes to the real terminal, past the capture (the progress display uses it). */
  readonly terminal: { write(text: string): boolean; readonly isTTY: boolean; readonly columns?: number };
  restore(): void;
}

/**
 * The handlers log structured JSON and Embedded Metric Format lines to stdout, as on Lambda,
 * where CloudWatch collects them. Locally they would bury the progress display: they go to
 * a log file instead (one JSON object per line, as Logs Insights would see them), and each
 * line is handed to `onLine` so the run can count the worker's metrics.
 */
export function captureProcessOutput(options: {
  readonly file: string;
  readonly onLine?: (line: string) => void;
}): CapturedOutput {
  mkdirSync(dirname(options.file), { recursive: true });
  writeFileSync(options.file, '');
  const originals = { out: process.stdout.write, err: process.stderr.write };
  let pending = '';
  const capture = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    appendFileSync(options.file, text);
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') options.onLine?.(line);
    const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  }) as Write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  const realWrite = originals.out.bind(process.stdout);
  return {
    terminal: {
      write: (text: string) => realWrite(text),
      isTTY: process.stdout.isTTY === true,
      // Read at each frame: the terminal may be resized during the run.
      get columns() {
        return process.stdout.columns;
      },
    },
    restore: () => {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
}

/**
 * Sums the values of the named metrics in one Embedded Metric Format line; other lines
 * (plain logs) give nothing. EMF puts each metric's value (or list of values) at the top level.
 */
export function emfMetrics(line: string, names: readonly string[]): Record<string, number> {
  if (!line.includes('"_aws"')) return {};
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return {};
  }
  const sums: Record<string, number> = {};
  for (const name of names) {
    const value = parsed[name];
    const values = Array.isArray(value) ? value : [value];
    const numbers = values.filter((v): v is number => typeof v === 'number');
    if (numbers.length > 0) sums[name] = numbers.reduce((a, b) => a + b, 0);
  }
  return sums;
}
