/**
 * Lines inside one worker environment, one per bucket that refused a record of the pool.
 *
 * Every record refused by a bucket computes the same wait (the SDK answers each caller as if
 * it were alone), so records sleeping side by side would all wake at once, one would win and
 * the rest would be requeued. Instead they queue: the record at the head of the line sleeps
 * its wait and acquires once more; the ones behind wait their turn without acquiring. A
 * record that is granted or gives up leaves the line and the next one's turn begins. A
 * record waiting in line holds a pool slot but no vendor slot, and never blocks the other
 * records' calls.
 *
 * For a `concurrent` bucket the SDK's wait is only a guess (a release may come sooner): when
 * a record of this pool releases a lease of that dimension, the head's sleep ends at once.
 */
export interface Turn {
  /** Whether records were ahead in the line: the wait computed on arrival is then stale. */
  readonly waitedInLine: boolean;
  /** Sleeps `ms` with `sleep`, ending early when this environment releases a lease of the dimension. */
  sleep(ms: number, sleep: (ms: number) => Promise<void>): Promise<void>;
  /** Leaves the line (granted, or giving up): the next record's turn begins. Idempotent. */
  leave(): void;
}

interface Place {
  readonly admit: () => void;
  wake?: () => void;
}

export class BucketLines {
  private readonly lines = new Map<string, Place[]>();

  /**
   * Joins the line for `dimension`; resolves with the turn once every record ahead has left,
   * or with undefined when `giveUp` settles first (the record has then left the line).
   */
  async join(dimension: string, giveUp: () => Promise<void>): Promise<Turn | undefined> {
    let admit: () => void = () => {};
    const admitted = new Promise<'turn'>((resolve) => {
      admit = () => resolve('turn');
    });
    const place: Place = { admit };
    const line = this.lines.get(dimension) ?? [];
    line.push(place);
    this.lines.set(dimension, line);
    const waitedInLine = line.length > 1;
    if (!waitedInLine) place.admit();
    const outcome = waitedInLine
      ? await Promise.race([admitted, giveUp().then(() => 'gave up' as const)])
      : 'turn';
    if (outcome !== 'turn') {
      // The turn may have come in the same tick: leaving passes it on either way.
      this.leave(dimension, place);
      return undefined;
    }
    let left = false;
    return {
      waitedInLine,
      sleep: async (ms, sleep) => {
        const woken = new Promise<void>((resolve) => {
          place.wake = resolve;
        });
        try {
          await Promise.race([sleep(ms), woken]);
        } finally {
          place.wake = undefined;
        }
      },
      leave: () => {
        if (left) return;
        left = true;
        this.leave(dimension, place);
      },
    };
  }

  /** A lease of `dimension` was released in this environment: the head's sleep ends. */
  wake(dimension: string): void {
    this.lines.get(dimension)?.[0]?.wake?.();
  }

  /** Records in the line for `dimension` now (the head included). */
  length(dimension: string): number {
    return this.lines.get(dimension)?.length ?? 0;
  }

  private leave(dimension: string, place: Place): void {
    const line = this.lines.get(dimension);
    if (!line) return;
    const index = line.indexOf(place);
    if (index < 0) return;
    line.splice(index, 1);
    if (line.length === 0) this.lines.delete(dimension);
    else if (index === 0) line[0]?.admit();
  }
}
