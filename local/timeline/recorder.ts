import type { BucketSnapshot } from '../../lambda/sluice';

/** What the run knows of each configured bucket before it starts: its limit. */
export interface BucketLimit {
  /** The dimension, or a keyed definition (`vendor#metric#*`): its keys are summed under it. */
  readonly dimension: string;
  readonly limitType: 'requests' | 'tokens' | 'concurrent';
  /** Units per second the configuration allows (0 for a concurrent bucket). */
  readonly perSecond: number;
  readonly capacity: number;
}

/** One look at the stack, taken by the progress loop (about four times a second). */
export interface TimelineLook {
  readonly nowMs: number;
  /** Messages the run knows of, vendor calls and refusals so far (the progress line's figures). */
  readonly total: number;
  readonly vendorCalls: number;
  readonly refusals: number;
  readonly queue: { readonly visible: number; readonly delayed: number; readonly inFlight: number };
  readonly completed: number;
  readonly deadLettered: number;
  readonly requeued: number;
  readonly buckets: readonly BucketSnapshot[];
}

/** A run's second-by-second record, plain JSON: what the report page charts. */
export interface TimelineData {
  /** Seconds since the run started; index i of every per-second list is second i. */
  readonly seconds: number;
  readonly maxInFlight: number;
  readonly buckets: ReadonlyArray<{
    readonly dimension: string;
    readonly limitType: BucketLimit['limitType'];
    readonly perSecond: number;
    readonly capacity: number;
    /** Units granted in each second (acquire.granted's costs). */
    readonly admitted: readonly number[];
    /** The limit the vendor's answers stated, per second, when the run learnt one below the configured rate. */
    readonly statedPerSecond: number | null;
    /** The refill rate in force, as a fraction of the configured one (last look of each second). */
    readonly rateScale: ReadonlyArray<number | null>;
    readonly tokens: ReadonlyArray<number | null>;
  }>;
  /** Vendor answers per second by class (vendor.answered), `rate_limited` among them. */
  readonly answers: Readonly<Record<string, readonly number[]>>;
  /** Each penalty: when, which bucket, the scale and learnt ceiling it left. */
  readonly penalties: ReadonlyArray<{
    readonly t: number;
    readonly dimension: string;
    readonly rateScaleAfter: number | null;
    readonly ceilingAfter: number | null;
  }>;
  /** The most vendor calls out at once in each second. */
  readonly inFlight: readonly number[];
  readonly queue: {
    readonly visible: readonly number[];
    readonly delayed: readonly number[];
    readonly inFlight: readonly number[];
  };
  readonly fates: {
    readonly completed: readonly number[];
    readonly deadLettered: readonly number[];
    readonly requeued: readonly number[];
  };
  /** Seconds the vendor circuit had been open at the end of each second; 0 while closed. */
  readonly circuitOpenSeconds: readonly number[];
  /** Grants per second by the product label on the acquire. */
  readonly products: Readonly<Record<string, readonly number[]>>;
  /**
   * On buckets with shares, units per second each product took from its own share and from the
   * common part (idle shares lent, or unreserved), summed over buckets.
   */
  readonly productShares: Readonly<
    Record<string, { readonly reserved: readonly number[]; readonly common: readonly number[] }>
  >;
}

/**
 * Records a local run as the CloudWatch dashboard would see it on AWS: from the handlers' own
 * log lines (the same JSON CloudWatch Logs receives: grants, vendor answers, penalties, the
 * circuit) and from the looks the progress loop takes at the queues and the buckets. Time is
 * the caller's clock, so a test can drive it.
 */
export class RunTimeline {
  private readonly admitted = new Map<string, number[]>();
  private readonly rateScale = new Map<string, Array<number | null>>();
  private readonly tokens = new Map<string, Array<number | null>>();
  private readonly answers = new Map<string, number[]>();
  private readonly products = new Map<string, number[]>();
  private readonly reserved = new Map<string, number[]>();
  private readonly common = new Map<string, number[]>();
  private readonly penalties: Array<TimelineData['penalties'][number]> = [];
  private readonly stated = new Map<string, number>();
  private readonly inFlightMax: number[] = [];
  private readonly queue = { visible: [] as number[], delayed: [] as number[], inFlight: [] as number[] };
  private readonly fates = {
    completed: [] as number[],
    deadLettered: [] as number[],
    requeued: [] as number[],
  };
  private readonly circuit: number[] = [];
  private circuitOpenedAtMs: number | undefined;
  private callsOut = 0;
  private lastSecond = -1;
  private startedMs: number | undefined;
  private lastLook: TimelineLook | undefined;

  constructor(
    private readonly limits: readonly BucketLimit[],
    private readonly maxInFlight: number,
  ) {
    for (const limit of limits) this.admitted.set(limit.dimension, []);
  }

  /** Second 0: when the work is enqueued. Nothing is recorded before. */
  start(nowMs: number): void {
    this.startedMs = nowMs;
  }

  /** One line the handlers wrote (JSON logs and EMF lines; anything else is ignored). */
  onLogLine(line: string, nowMs: number): void {
    if (this.startedMs === undefined || !line.startsWith('{') || line.includes('"_aws"')) return;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const second = this.secondOf(nowMs);
    switch (event.message) {
      case 'acquire.granted': {
        const costs = (event.costs ?? {}) as Record<string, unknown>;
        for (const [dimension, cost] of Object.entries(costs)) {
          const bucket = this.bucketOf(dimension);
          if (bucket && typeof cost === 'number') add(this.admitted.get(bucket) ?? [], second, cost);
        }
        if (typeof event.product === 'string') {
          add(listOf(this.products, event.product), second, 1);
          const shares = (event.shares ?? {}) as Record<string, { reserved?: unknown; common?: unknown }>;
          for (const take of Object.values(shares)) {
            if (typeof take.reserved === 'number')
              add(listOf(this.reserved, event.product), second, take.reserved);
            if (typeof take.common === 'number') add(listOf(this.common, event.product), second, take.common);
          }
        }
        return;
      }
      case 'vendor.answered':
        if (typeof event.class === 'string') add(listOf(this.answers, event.class), second, 1);
        return;
      case 'penalize.applied':
        if (typeof event.dimension === 'string') {
          this.penalties.push({
            t: round((nowMs - (this.startedMs ?? nowMs)) / 1000),
            dimension: event.dimension,
            rateScaleAfter: numberOrNull(event.rate_scale_after),
            ceilingAfter: numberOrNull(event.rate_ceiling_after),
          });
        }
        return;
      case 'bucket.stated_limit_below_configured': {
        const bucket = typeof event.dimension === 'string' ? this.bucketOf(event.dimension) : undefined;
        const perSecond = numberOrNull(event.stated_limit_per_second);
        if (bucket && perSecond !== null) this.stated.set(bucket, perSecond);
        return;
      }
      case 'circuit.opened':
      case 'circuit.reopened':
        this.circuitOpenedAtMs ??= nowMs;
        return;
      case 'circuit.closed':
        this.circuitOpenedAtMs = undefined;
        return;
    }
  }

  /** A vendor call left (+1) or ended (-1); the page shows the most out at once per second. */
  callsInFlight(delta: 1 | -1, nowMs: number): void {
    if (this.startedMs === undefined) return;
    const second = this.secondOf(nowMs);
    this.carryCallsOutTo(second);
    this.callsOut = Math.max(0, this.callsOut + delta);
    this.inFlightMax[second] = Math.max(this.inFlightMax[second] ?? 0, this.callsOut);
  }

  /** A call still out when a second begins counts in that second too. */
  private carryCallsOutTo(second: number): void {
    for (let s = this.inFlightMax.length; s <= second; s++) this.inFlightMax[s] = this.callsOut;
  }

  look(look: TimelineLook): void {
    if (this.startedMs === undefined) return;
    this.lastLook = look;
    const second = this.secondOf(look.nowMs);
    this.queue.visible[second] = look.queue.visible;
    this.queue.delayed[second] = look.queue.delayed;
    this.queue.inFlight[second] = look.queue.inFlight;
    this.fates.completed[second] = look.completed;
    this.fates.deadLettered[second] = look.deadLettered;
    this.fates.requeued[second] = look.requeued;
    for (const snapshot of look.buckets) {
      listOf(this.rateScale, snapshot.dimension)[second] = round(snapshot.rateScale ?? 1);
      listOf(this.tokens, snapshot.dimension)[second] = round(snapshot.tokens);
    }
    this.circuit[second] =
      this.circuitOpenedAtMs === undefined ? 0 : round((look.nowMs - this.circuitOpenedAtMs) / 1000);
  }

  data(nowMs: number): TimelineData {
    const seconds = Math.max(this.lastSecond + 1, this.secondOf(nowMs) + 1);
    this.carryCallsOutTo(seconds - 1);
    const fill = (list: readonly number[]) => Array.from({ length: seconds }, (_, i) => list[i] ?? 0);
    // A level carries over seconds without a look (the loop may be slower than a second).
    const carry = <T>(list: ReadonlyArray<T>, start: T): T[] => {
      let last = start;
      return Array.from({ length: seconds }, (_, i) => {
        last = list[i] ?? last;
        return last;
      });
    };
    const counts = (map: Map<string, number[]>) =>
      Object.fromEntries([...map].map(([name, list]) => [name, fill(list)]));
    return {
      seconds,
      maxInFlight: this.maxInFlight,
      buckets: this.limits.map((limit) => ({
        ...limit,
        admitted: fill(this.admitted.get(limit.dimension) ?? []),
        statedPerSecond: this.stated.get(limit.dimension) ?? null,
        rateScale: carry(this.rateScale.get(limit.dimension) ?? [], null),
        tokens: carry(this.tokens.get(limit.dimension) ?? [], null),
      })),
      answers: counts(this.answers),
      penalties: [...this.penalties],
      inFlight: fill(this.inFlightMax),
      queue: {
        visible: carry(this.queue.visible, 0),
        delayed: carry(this.queue.delayed, 0),
        inFlight: carry(this.queue.inFlight, 0),
      },
      fates: {
        completed: carry(this.fates.completed, 0),
        deadLettered: carry(this.fates.deadLettered, 0),
        requeued: carry(this.fates.requeued, 0),
      },
      circuitOpenSeconds: carry(this.circuit, 0),
      products: counts(this.products),
      productShares: Object.fromEntries(
        [...new Set([...this.reserved.keys(), ...this.common.keys()])].map((product) => [
          product,
          { reserved: fill(this.reserved.get(product) ?? []), common: fill(this.common.get(product) ?? []) },
        ]),
      ),
    };
  }

  /** The progress figures of the latest look, as lines for the live page. */
  progressLines(): string {
    const look = this.lastLook;
    if (!look) return 'starting: the servers start and the work is enqueued ...';
    const rows: [string, string][] = [
      ['messages', String(look.total)],
      ['completed', String(look.completed)],
      ['dead-lettered', String(look.deadLettered)],
      ['requeued', String(look.requeued)],
      [
        'queued / delayed / in flight',
        `${look.queue.visible} / ${look.queue.delayed} / ${look.queue.inFlight}`,
      ],
      ['vendor calls / refusals', `${look.vendorCalls} / ${look.refusals}`],
      ['elapsed', `${Math.round((look.nowMs - (this.startedMs ?? look.nowMs)) / 1000)} s`],
    ];
    const width = Math.max(...rows.map(([name]) => name.length));
    return rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join('\n');
  }

  private secondOf(nowMs: number): number {
    const second = Math.max(0, Math.floor((nowMs - (this.startedMs ?? nowMs)) / 1000));
    this.lastSecond = Math.max(this.lastSecond, second);
    return second;
  }

  /** The configured bucket a granted dimension counts toward: itself, or its keyed definition. */
  private bucketOf(dimension: string): string | undefined {
    if (this.admitted.has(dimension)) return dimension;
    return this.limits.find(
      (limit) => limit.dimension.endsWith('#*') && dimension.startsWith(limit.dimension.slice(0, -1)),
    )?.dimension;
  }
}

function listOf<T>(map: Map<string, T[]>, key: string): T[] {
  let list = map.get(key);
  if (!list) {
    list = [];
    map.set(key, list);
  }
  return list;
}

function add(list: number[], index: number, value: number): void {
  list[index] = (list[index] ?? 0) + value;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

const round = (value: number) => Math.round(value * 1000) / 1000;
