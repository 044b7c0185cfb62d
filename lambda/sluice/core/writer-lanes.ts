import type { WriteOp } from './model';

/**
 * Writer lanes give every operation the identity its writes carry (`WriteOp`, model.ts), so a
 * repeat of an applied write is recognised (docs/design.md, "Writes that are safe to repeat").
 * A lane runs one operation at a time, so an item holding a lane's op holds that operation's
 * write and no later one; concurrent operations of one client take distinct lanes, reused
 * (last in, first out) so an item keeps only as many lanes per client as ran at once.
 */
export class WriterLane {
  private lastSeq = 0;

  constructor(
    readonly writer: string,
    private readonly clock: () => number,
  ) {}

  /** The next op of this lane: `max(clock, last + 1)`, strictly increasing, and its time of writing. */
  nextOp(): WriteOp {
    this.lastSeq = Math.max(Math.floor(this.clock()), this.lastSeq + 1);
    return { writer: this.writer, seq: this.lastSeq };
  }
}

export class WriterLanes {
  private readonly idle: WriterLane[] = [];
  private opened = 0;

  constructor(
    /** Prefixes every lane of this client (`clientId.n`). */
    readonly clientId: string,
    private readonly clock: () => number,
  ) {}

  take(): WriterLane {
    return this.idle.pop() ?? new WriterLane(`${this.clientId}.${(this.opened++).toString(36)}`, this.clock);
  }

  give(lane: WriterLane): void {
    this.idle.push(lane);
  }
}

/** Runs one operation under a lane's next op; the lane is free again once it ends. */
export async function withOp<T>(lanes: WriterLanes, run: (op: WriteOp) => Promise<T>): Promise<T> {
  const lane = lanes.take();
  try {
    return await run(lane.nextOp());
  } finally {
    lanes.give(lane);
  }
}
