import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_PARTITION_KEY } from '../contract';
import { SluiceError } from '../sluice';
import type { CircuitState, CircuitStatus } from './state';
import { CIRCUIT_KEY_PREFIX, type CircuitStore, type CircuitWriteOutcome, type StoredCircuit } from './store';

/**
 * The circuit item in the bucket table. Its version attribute is `circuit_version`, not the
 * buckets' `version`: the reconciler's scan takes an item with `version` for a bucket.
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
  detail: 'detail',
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
    const out = await this.dynamodb.send(
      new GetItemCommand({ TableName: this.tableName, Key: key(vendor), ConsistentRead: true }),
    );
    return out.Item ? decode(out.Item) : undefined;
  }

  async write(vendor: string, next: StoredCircuit, expectedVersion: number): Promise<CircuitWriteOutcome> {
    try {
      await this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...key(vendor), ...encode(next) },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(#pk)' : '#version = :expected',
          ExpressionAttributeNames:
            expectedVersion === 0 ? { '#pk': TABLE_PARTITION_KEY } : { '#version': A.version },
          ...(expectedVersion === 0
            ? {}
            : { ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } } }),
          // The item as it is now comes back with the refusal, at no read cost.
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { written: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return { written: false, current: error.Item ? decode(error.Item) : undefined };
    }
  }
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
  }
  if (state.detail) item[A.detail] = { S: state.detail.slice(0, MAX_DETAIL_CHARS) };
  return item;
}

function decode(item: Record<string, AttributeValue>): StoredCircuit {
  const num = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name]?.N));
  const status = item[A.status]?.S as CircuitStatus | undefined;
  if (status === undefined || !STATUSES.includes(status)) {
    throw new SluiceError(`circuit item ${item[TABLE_PARTITION_KEY]?.S} has no valid ${A.status}: ${status}`);
  }
  const openedAtMs = num(A.openedAtMs);
  const nextProbeAtMs = num(A.nextProbeAtMs);
  const intervalMs = num(A.intervalMs);
  const probeOwner = item[A.probeOwner]?.S;
  const probeUntilMs = num(A.probeUntilMs);
  const detail = item[A.detail]?.S;
  const state: CircuitState = {
    status,
    failures: num(A.failures) ?? 0,
    windowStartedAtMs: num(A.windowStartedAtMs) ?? 0,
    ...(openedAtMs === undefined ? {} : { openedAtMs }),
    ...(nextProbeAtMs === undefined ? {} : { nextProbeAtMs }),
    ...(intervalMs === undefined ? {} : { intervalMs }),
    ...(probeOwner === undefined || probeUntilMs === undefined
      ? {}
      : { probe: { owner: probeOwner, untilMs: probeUntilMs } }),
    ...(detail === undefined ? {} : { detail }),
  };
  return {
    state,
    version: num(A.version) ?? 0,
    ops: (item[A.ops]?.L ?? []).flatMap((op) => (op.S === undefined ? [] : [op.S])),
  };
}
