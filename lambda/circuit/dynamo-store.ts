import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { TABLE_PARTITION_KEY } from '../contract';
import { isConditionFailed, sendMapped } from '../sluice';
import { type CircuitState, type CircuitStatus, CLOSED } from './state';
import {
  CIRCUIT_KEY_PREFIX,
  type CircuitStore,
  type CircuitWriteOutcome,
  type StoredCircuit,
  UNREADABLE_VERSION,
} from './store';

/**
 * The circuit item in the bucket table. Its version attribute is `circuit_version`, not the
 * buckets' `version`: the seeding's table scan takes an item with `version` for a bucket. It
 * never carries the sweep index key, so the reconciler never reads it in a sweep.
 */
const A = {
  status: 'circuit_status',
  failures: 'failures',
  windowStartedAtMs: 'window_started_at_ms',
  openedAtMs: 'opened_at_ms',
  nextProbeAtMs: 'next_probe_at_ms',
  intervalMs: 'interval_ms',
  probeOwner: 'probe_owner',
  probeUntilMs: 'probe_until_ms',
  probeClaimedAtMs: 'probe_claimed_at_ms',
  detail: 'detail',
  sources: 'failure_sources',
  recoveredAtMs: 'recovered_at_ms',
  version: 'circuit_version',
  ops: 'ops',
} as const;

const STATUSES: readonly CircuitStatus[] = ['closed', 'open', 'unauthorized'];
const MAX_DETAIL_CHARS = 500;

export class DynamoDbCircuitStore implements CircuitStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async read(vendor: string): Promise<StoredCircuit | undefined> {
    const out = await sendMapped(() =>
      this.dynamodb.send(
        new GetItemCommand({ TableName: this.tableName, Key: key(vendor), ConsistentRead: true }),
      ),
    );
    return out.Item ? decode(out.Item) : undefined;
  }

  async write(vendor: string, next: StoredCircuit, expectedVersion: number): Promise<CircuitWriteOutcome> {
    try {
      await sendMapped(() =>
        this.dynamodb.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: { ...key(vendor), ...encode(next) },
            ...condition(expectedVersion),
            // The item as it is now comes back with the refusal, at no read cost.
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { written: true };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return { written: false, current: error.Item ? decode(error.Item) : undefined };
    }
  }
}

/** The write's condition: no item yet, an item without a readable version, or the version read. */
function condition(
  expectedVersion: number,
): Pick<
  PutItemCommandInput,
  'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
> {
  if (expectedVersion === 0) {
    return {
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
    };
  }
  if (expectedVersion === UNREADABLE_VERSION) {
    return {
      ConditionExpression:
        'attribute_exists(#pk) AND (attribute_not_exists(#version) OR NOT attribute_type(#version, :number))',
      ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#version': A.version },
      ExpressionAttributeValues: { ':number': { S: 'N' } },
    };
  }
  return {
    ConditionExpression: '#version = :expected',
    ExpressionAttributeNames: { '#version': A.version },
    ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
  };
}

function key(vendor: string): Record<string, AttributeValue> {
  return { [TABLE_PARTITION_KEY]: { S: CIRCUIT_KEY_PREFIX + vendor } };
}

const n = (value: number): AttributeValue => ({ N: String(Math.round(value)) });

function encode(stored: StoredCircuit): Record<string, AttributeValue> {
  const { state } = stored;
  const item: Record<string, AttributeValue> = {
    [A.status]: { S: state.status },
    [A.failures]: n(state.failures),
    [A.windowStartedAtMs]: n(state.windowStartedAtMs),
    [A.version]: n(stored.version),
    [A.ops]: { L: stored.ops.map((op) => ({ S: op })) },
  };
  if (state.openedAtMs !== undefined) item[A.openedAtMs] = n(state.openedAtMs);
  if (state.nextProbeAtMs !== undefined) item[A.nextProbeAtMs] = n(state.nextProbeAtMs);
  if (state.intervalMs !== undefined) item[A.intervalMs] = n(state.intervalMs);
  if (state.probe) {
    item[A.probeOwner] = { S: state.probe.owner };
    item[A.probeUntilMs] = n(state.probe.untilMs);
    if (state.probe.claimedAtMs !== undefined) item[A.probeClaimedAtMs] = n(state.probe.claimedAtMs);
  }
  if (state.detail) item[A.detail] = { S: state.detail.slice(0, MAX_DETAIL_CHARS) };
  if (state.sources && state.sources.length > 0)
    item[A.sources] = { L: state.sources.map((id) => ({ S: id })) };
  if (state.recoveredAtMs !== undefined) item[A.recoveredAtMs] = n(state.recoveredAtMs);
  return item;
}

/**
 * The stored circuit, or, when the item cannot be read, a closed one marked `unreadable` with
 * what is wrong: a corrupted item must not stop every message (a throw here would, before
 * anything could rewrite it).
 */
export function decode(item: Record<string, AttributeValue>): StoredCircuit {
  const problems: string[] = [];
  const num = (name: string): number | undefined => {
    const value = item[name];
    if (value === undefined) return undefined;
    const parsed = value.N === undefined ? Number.NaN : Number(value.N);
    if (!Number.isFinite(parsed)) {
      problems.push(`${name} is not a number`);
      return undefined;
    }
    return parsed;
  };
  const text = (name: string): string | undefined => {
    const value = item[name];
    if (value === undefined) return undefined;
    if (value.S === undefined) problems.push(`${name} is not a string`);
    return value.S;
  };
  const list = (name: string): string[] | undefined => {
    const value = item[name];
    if (value === undefined) return undefined;
    if (value.L === undefined || value.L.some((entry) => entry.S === undefined)) {
      problems.push(`${name} is not a list of strings`);
      return undefined;
    }
    return value.L.map((entry) => entry.S as string);
  };
  const rawStatus = text(A.status);
  const status = STATUSES.find((known) => known === rawStatus);
  if (status === undefined) problems.push(`${A.status} is ${JSON.stringify(rawStatus ?? null)}`);
  const versionRead = num(A.version);
  const version =
    versionRead !== undefined && Number.isInteger(versionRead) && versionRead > 0 ? versionRead : undefined;
  if (version === undefined) problems.push(`${A.version} is not a positive integer`);
  const failures = num(A.failures) ?? 0;
  const windowStartedAtMs = num(A.windowStartedAtMs) ?? 0;
  const openedAtMs = num(A.openedAtMs);
  const nextProbeAtMs = num(A.nextProbeAtMs);
  const intervalMs = num(A.intervalMs);
  const probeOwner = text(A.probeOwner);
  const probeUntilMs = num(A.probeUntilMs);
  const probeClaimedAtMs = num(A.probeClaimedAtMs);
  const detail = text(A.detail);
  const sources = list(A.sources);
  const recoveredAtMs = num(A.recoveredAtMs);
  const ops = list(A.ops) ?? [];
  if (
    status !== undefined &&
    status !== 'closed' &&
    (nextProbeAtMs === undefined || intervalMs === undefined)
  ) {
    problems.push(`an ${status} circuit without ${A.nextProbeAtMs} and ${A.intervalMs}`);
  }
  if (problems.length > 0 || status === undefined) {
    return {
      state: CLOSED,
      version: version ?? UNREADABLE_VERSION,
      ops,
      unreadable: `circuit item ${item[TABLE_PARTITION_KEY]?.S}: ${problems.join('; ')}`,
    };
  }
  const state: CircuitState = {
    status,
    failures,
    windowStartedAtMs,
    ...(openedAtMs === undefined ? {} : { openedAtMs }),
    ...(nextProbeAtMs === undefined ? {} : { nextProbeAtMs }),
    ...(intervalMs === undefined ? {} : { intervalMs }),
    ...(probeOwner === undefined || probeUntilMs === undefined
      ? {}
      : {
          probe: {
            owner: probeOwner,
            untilMs: probeUntilMs,
            ...(probeClaimedAtMs === undefined ? {} : { claimedAtMs: probeClaimedAtMs }),
          },
        }),
    ...(detail === undefined ? {} : { detail }),
    ...(sources === undefined || sources.length === 0 ? {} : { sources }),
    ...(recoveredAtMs === undefined ? {} : { recoveredAtMs }),
  };
  return { state, version: version ?? UNREADABLE_VERSION, ops };
}
