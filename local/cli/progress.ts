import type { BucketSnapshot } from '../../lambda/sluice';

/** What one progress frame shows; gathered by main.ts once per tick. */
export interface ProgressState {
  readonly total: number;
  readonly completed: number;
  readonly deadLettered: number;
  readonly requeued: number;
  /** Messages inside the running invocation. */
  readonly inFlight: number;
  /**
   * Messages waiting on the work queue: visible, delayed (requeued with DelaySeconds) and
   * invisible after a failed invocation; not those inside the running invocation (`inFlight`).
   */
  readonly queued: number;
  readonly delayed: number;
  readonly refusals: number;
  readonly vendorCalls: number;
  /** The latest call without an HTTP answer: its cause and the vendor URL. */
  readonly vendorFailure?: { readonly cause: string; readonly url: string };
  readonly buckets: readonly BucketSnapshot[];
  readonly elapsedMs: number;
  /** `elapsedMs` when the count of finished messages last rose (0 before the first). */
  readonly lastProgressMs?: number;
}

const BAR_WIDTH = 28;

/** A frame as lines of text, pure so it can be tested and reused by the plain output. */
export function renderProgress(state: ProgressState): string[] {
  const done = state.completed + state.deadLettered;
  const fraction = state.total === 0 ? 1 : Math.min(1, done / state.total);
  const filled = Math.round(fraction * BAR_WIDTH);
  const completedCells = state.total === 0 ? 0 : Math.round((state.completed / state.total) * BAR_WIDTH);
  const bar = '█'.repeat(Math.min(filled, completedCells)) + '▒'.repeat(Math.max(0, filled - completedCells));
  const lines = [
    `[${bar.padEnd(BAR_WIDTH, '·')}] ${done}/${state.total}  ` +
      `done ${state.completed} · DLQ ${state.deadLettered} · requeued ${state.requeued} · ` +
      `in flight ${state.inFlight} · queued ${state.queued} (delayed ${state.delayed})`,
    `vendor calls ${state.vendorCalls} · refusals ${state.refusals} · ` +
      `elapsed ${clock(state.elapsedMs)} · ETA ${eta(done, state.total, state.elapsedMs, state.lastProgressMs)}` +
      (state.vendorFailure ? ` · no answer: ${state.vendorFailure.cause} at ${state.vendorFailure.url}` : ''),
  ];
  if (state.buckets.length > 0) lines.push(`buckets  ${state.buckets.map(bucketLevel).join('  ')}`);
  return lines;
}

export function bucketLevel(bucket: BucketSnapshot): string {
  const cells = 8;
  const level = bucket.capacity === 0 ? 0 : Math.max(0, Math.min(1, bucket.tokens / bucket.capacity));
  const full = Math.round(level * cells);
  const shown = bucket.tokens >= 100 ? Math.round(bucket.tokens) : Math.round(bucket.tokens * 10) / 10;
  return `${bucket.dimension} ${'▮'.repeat(full)}${'▯'.repeat(cells - full)} ${shown}/${bucket.capacity}`;
}

/** A stall this much longer than the average time per message makes the estimate unknown. */
const STALL_FACTOR = 3;
const MIN_STALL_MS = 5_000;

/**
 * Estimated time left from the average pace up to the last finished message; unknown until
 * something finished. While nothing finishes for much longer than the pace, the estimate is
 * not kept low: it says how long nothing has finished instead.
 */
export function eta(done: number, total: number, elapsedMs: number, lastProgressMs = elapsedMs): string {
  if (done >= total) return '00:00';
  if (done === 0) return '--:--';
  const paceMs = Math.max(1, lastProgressMs) / done;
  const stalledMs = elapsedMs - lastProgressMs;
  if (stalledMs > Math.max(MIN_STALL_MS, STALL_FACTOR * paceMs)) {
    return `--:-- (nothing finished for ${clock(stalledMs)})`;
  }
  return clock(Math.max(0, (total - done) * paceMs - stalledMs));
}

export function clock(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `${String(Math.floor(seconds / 60)).padStart(2, '0')}:${String(seconds % 60).padStart(2, '0')}`;
}

/**
 * Prints frames: redrawn in place on a TTY, one plain line at most every `plainEveryMs`
 * otherwise (CI logs), nothing with `quiet`. Log lines go above the frame.
 */
export class ProgressPrinter {
  private drawnLines = 0;
  private lastPlainMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly out:
      | NodeJS.WriteStream
      | { write(text: string): unknown; isTTY?: boolean; readonly columns?: number },
    private readonly options: { readonly quiet: boolean; readonly plainEveryMs?: number },
  ) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  frame(state: ProgressState): void {
    if (this.options.quiet) return;
    const lines = renderProgress(state);
    if (this.tty) {
      // A line wider than the terminal wraps onto a second row, and the cursor-up that
      // redraws the frame would stop inside it: each line is cut to the width instead.
      const width = Math.max(20, (this.out.columns || 80) - 1);
      for (const [index, line] of lines.entries())
        if (line.length > width) lines[index] = `${line.slice(0, width - 1)}…`;
      this.clear();
      this.out.write(`${lines.join('\n')}\n`);
      this.drawnLines = lines.length;
      return;
    }
    if (state.elapsedMs - this.lastPlainMs < (this.options.plainEveryMs ?? 5_000)) return;
    this.lastPlainMs = state.elapsedMs;
    this.out.write(`${lines.slice(0, 2).join(' · ')}\n`);
  }

  /** A line that stays (start-up steps, chaos events); `quiet` hides it too. */
  log(line: string): void {
    if (this.options.quiet) return;
    this.clear();
    this.out.write(`${line}\n`);
    this.drawnLines = 0;
  }

  /** Leaves the last frame on screen and stops redrawing over it. */
  finish(): void {
    this.drawnLines = 0;
  }

  private clear(): void {
    if (!this.tty || this.drawnLines === 0) return;
    // Cursor up over the previous frame, then clear to the end of the screen.
    this.out.write(`\x1b[${this.drawnLines}A\x1b[0J`);
    this.drawnLines = 0;
  }
}
