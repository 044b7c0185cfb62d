import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SluiceClient } from '../../lambda/sluice/client';
import type { SluiceSettings } from '../../lambda/sluice/core/settings';
import type { SluiceLogFields, SluiceLogger } from '../../lambda/sluice/ops/context';
import type { BucketStore } from '../../lambda/sluice/store/bucket-store';
import { DynamoBucketStore } from '../../lambda/sluice/store/dynamo-store';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { createBucketTable } from '../../lambda/sluice/store/table';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

export const T0 = 1_700_000_000_000;

export function testSettings(overrides: Partial<SluiceSettings> = {}): SluiceSettings {
  return {
    tableName: 'memory',
    leaseTtlSeconds: 60,
    maxRetries: 3,
    defaultSlotTimeoutSeconds: 30,
    inlineRetryThresholdSeconds: 5,
    logLevel: 'ERROR',
    ...overrides,
  };
}

/** A clock the test moves by hand: no fake timers, no sleeps. */
export class SimulatedClock {
  constructor(public nowMs = T0) {}
  readonly now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

/** Seeded [0, 1) sequence (mulberry32), so lease ids and jitter are reproducible. */
export function seededRandom(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LogRecord {
  readonly level: string;
  readonly event: string;
  readonly fields: SluiceLogFields;
}

export class RecordingLogger implements SluiceLogger {
  readonly records: LogRecord[] = [];
  debug = (event: string, fields: SluiceLogFields) => this.records.push({ level: 'DEBUG', event, fields });
  info = (event: string, fields: SluiceLogFields) => this.records.push({ level: 'INFO', event, fields });
  warn = (event: string, fields: SluiceLogFields) => this.records.push({ level: 'WARN', event, fields });
  error = (event: string, fields: SluiceLogFields) => this.records.push({ level: 'ERROR', event, fields });
  events(name: string): SluiceLogFields[] {
    return this.records.filter((r) => r.event === name).map((r) => r.fields);
  }
}

/** A client on a memory store with a simulated clock; sleeping advances that clock. */
export function memoryClient<S extends BucketStore = MemoryBucketStore>(
  options: { store?: S; clock?: SimulatedClock; settings?: Partial<SluiceSettings>; seed?: number } = {},
) {
  const store = (options.store ?? new MemoryBucketStore()) as S;
  const clock = options.clock ?? new SimulatedClock();
  const logger = new RecordingLogger();
  const client = new SluiceClient({
    settings: testSettings(options.settings),
    store,
    clock: clock.now,
    random: seededRandom(options.seed),
    logger,
    sleep: async (ms) => clock.advance(ms),
  });
  return { client, store, clock, logger };
}

export function localDynamoDb(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: localEndpoints().dynamodb, maxAttempts: 3 });
}

/** A fresh table on DynamoDB Local and a store on it. */
export async function localTable(
  prefix = 'sdk',
): Promise<{ dynamodb: DynamoDBClient; tableName: string; store: DynamoBucketStore }> {
  const dynamodb = localDynamoDb();
  const tableName = uniqueName(prefix);
  await createBucketTable(dynamodb, tableName);
  return { dynamodb, tableName, store: new DynamoBucketStore(dynamodb, tableName) };
}

/** A promise the test settles by hand: no timers, the order of events is the test's. */
export function deferred<T = void>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Lets every promise callback that can run, run. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
