import {
  type AttributeValue,
  BatchExecuteStatementCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE } from '../contract';
import { isConditionFailed, sendMapped } from '../sluice';
import {
  assertDistinct,
  type BeginResult,
  COMPLETED_RETENTION_SECONDS,
  IDEMPOTENCY_KEY_PREFIX,
  IdempotencyStatus,
  type IdempotencyStore,
  type StoredOutcome,
} from './store';

/**
 * The idempotency records in the bucket table (`idem#<id>`, items beside the buckets): every
 * write is conditioned so that two deliveries of one id decide by DynamoDB's answer alone, and
 * TTL removes an ended record long after it stops mattering (store.ts says what each call means).
 */

/** An abandoned IN_PROGRESS record is garbage-collected by TTL a day after its lease expired. */
const IN_PROGRESS_TTL_GRACE_SECONDS = 86_400;

/** DynamoDB's limit of statements in one BatchExecuteStatement. */
const PARTIQL_BATCH_LIMIT = 25;

/** A claim's attributes, in the order the `INSERT` statement names them. */
const CLAIM_ATTRIBUTES = [
  TABLE_PARTITION_KEY,
  'status',
  'owner',
  'expires_at_ms',
  TABLE_TTL_ATTRIBUTE,
] as const;

function claimItem(messageId: string, owner: string, expiresAtMs: number): Record<string, AttributeValue> {
  return {
    [TABLE_PARTITION_KEY]: { S: IDEMPOTENCY_KEY_PREFIX + messageId },
    status: { S: IdempotencyStatus.inProgress },
    owner: { S: owner },
    expires_at_ms: { N: String(expiresAtMs) },
    [TABLE_TTL_ATTRIBUTE]: { N: String(Math.ceil(expiresAtMs / 1000) + IN_PROGRESS_TTL_GRACE_SECONDS) },
  };
}

/** The claim as a PartiQL `INSERT`: a put on the condition that no item holds the key. */
function insertClaim(tableName: string, item: Record<string, AttributeValue>) {
  const values = CLAIM_ATTRIBUTES.map((name) => `'${name}': ?`).join(', ');
  return {
    Statement: `INSERT INTO "${tableName}" VALUE {${values}}`,
    Parameters: CLAIM_ATTRIBUTES.map((name) => item[name] as AttributeValue),
  };
}

export class DynamoDbIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly newOwner: () => string,
  ) {}

  async begin(messageId: string, nowMs: number, expiresAtMs: number): Promise<BeginResult> {
    return this.claim(messageId, this.newOwner(), nowMs, expiresAtMs);
  }

  /**
   * New ids are claimed with one PartiQL `INSERT` each, up to 25 in one BatchExecuteStatement:
   * an `INSERT` is a put on the condition that no item holds the key, the commonest case of
   * `begin`'s condition (a first delivery), for the same write units, in one request instead of
   * one per id. Every id the batch did not claim (an item stands: a completion, a live or
   * expired claim, a dead letter; or that statement was throttled) is claimed on its own with
   * the same owner, under `begin`'s whole condition, which also recognises the batch's own
   * write when the batch's answer was lost and the SDK sent it again.
   */
  async beginAll(
    messageIds: readonly string[],
    nowMs: number,
    expiresAtMs: number,
  ): Promise<ReadonlyMap<string, BeginResult>> {
    assertDistinct(messageIds);
    const results = new Map<string, BeginResult>();
    for (let start = 0; start < messageIds.length; start += PARTIQL_BATCH_LIMIT) {
      const chunk = messageIds.slice(start, start + PARTIQL_BATCH_LIMIT).map((id) => ({
        id,
        owner: this.newOwner(),
      }));
      const answer = await sendMapped(() =>
        this.dynamodb.send(
          new BatchExecuteStatementCommand({
            Statements: chunk.map(({ id, owner }) =>
              insertClaim(this.tableName, claimItem(id, owner, expiresAtMs)),
            ),
          }),
        ),
      );
      for (const [index, { id, owner }] of chunk.entries()) {
        const response = answer.Responses?.[index];
        results.set(
          id,
          response !== undefined && response.Error === undefined
            ? { state: 'started', owner }
            : await this.claim(id, owner, nowMs, expiresAtMs),
        );
      }
    }
    return results;
  }

  private async claim(
    messageId: string,
    owner: string,
    nowMs: number,
    expiresAtMs: number,
  ): Promise<BeginResult> {
    try {
      await sendMapped(() =>
        this.dynamodb.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: claimItem(messageId, owner, expiresAtMs),
            // Lets through: a new id, an IN_PROGRESS claim whose holder died (lease expired), or a
            // dead letter whose outcome went out (redriven from the DLQ by an operator).
            // Stops: a COMPLETED id (any age: TTL may not have removed it yet, and it still counts),
            // a dead letter whose outcome is still to publish, and a live claim of another delivery.
            ConditionExpression:
              'attribute_not_exists(#pk) OR (#status = :inProgress AND #expires < :now) OR (#status = :deadLettered AND #published = :true)',
            ExpressionAttributeNames: {
              '#pk': TABLE_PARTITION_KEY,
              '#status': 'status',
              '#expires': 'expires_at_ms',
              '#published': 'outcome_published',
            },
            ExpressionAttributeValues: {
              ':inProgress': { S: IdempotencyStatus.inProgress },
              ':deadLettered': { S: IdempotencyStatus.deadLettered },
              ':true': { BOOL: true },
              ':now': { N: String(nowMs) },
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { state: 'started', owner };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // Our own claim, written by a request whose answer was lost and which the SDK sent again.
      if (error.Item?.status?.S === IdempotencyStatus.inProgress && error.Item.owner?.S === owner) {
        return { state: 'started', owner };
      }
      return fromExisting(error.Item);
    }
  }

  async complete(messageId: string, nowMs: number, outcomeJson?: string): Promise<void> {
    // Unconditional: the vendor answered 2xx, so the id is completed whoever holds the claim.
    await sendMapped(() =>
      this.dynamodb.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: finalRecord(messageId, IdempotencyStatus.completed, 'completed_at_ms', nowMs, outcomeJson),
        }),
      ),
    );
  }

  async deadLettered(
    messageId: string,
    nowMs: number,
    outcomeJson: string,
  ): Promise<StoredOutcome | undefined> {
    try {
      await sendMapped(() =>
        this.dynamodb.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: finalRecord(
              messageId,
              IdempotencyStatus.deadLettered,
              'dead_lettered_at_ms',
              nowMs,
              outcomeJson,
            ),
            // Over nothing or a claim only: a completion's outcome is the final one, and an earlier
            // dead letter of the same id keeps its own (published or still to publish).
            ConditionExpression: 'attribute_not_exists(#pk) OR #status = :inProgress',
            ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY, '#status': 'status' },
            ExpressionAttributeValues: { ':inProgress': { S: IdempotencyStatus.inProgress } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { json: outcomeJson, published: false };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return storedOutcome(error.Item);
    }
  }

  async markPublished(messageId: string): Promise<void> {
    try {
      await sendMapped(() =>
        this.dynamodb.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [TABLE_PARTITION_KEY]: { S: IDEMPOTENCY_KEY_PREFIX + messageId } },
            UpdateExpression: 'SET #published = :true',
            ConditionExpression: 'attribute_exists(#outcome)',
            ExpressionAttributeNames: { '#published': 'outcome_published', '#outcome': 'outcome' },
            ExpressionAttributeValues: { ':true': { BOOL: true } },
          }),
        ),
      );
    } catch (error) {
      // The record was replaced meanwhile (a redriven copy started): nothing left to mark.
      if (!isConditionFailed(error)) throw error;
    }
  }

  async abandon(messageId: string, owner: string): Promise<void> {
    try {
      await sendMapped(() =>
        this.dynamodb.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: { [TABLE_PARTITION_KEY]: { S: IDEMPOTENCY_KEY_PREFIX + messageId } },
            // Only our own claim: never a completion, never a claim another delivery took over.
            ConditionExpression: '#status = :inProgress AND #owner = :owner',
            ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
            ExpressionAttributeValues: {
              ':inProgress': { S: IdempotencyStatus.inProgress },
              ':owner': { S: owner },
            },
          }),
        ),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }
}

function fromExisting(item: Record<string, AttributeValue> | undefined): BeginResult {
  const status = item?.status?.S;
  if (status === IdempotencyStatus.completed || status === IdempotencyStatus.deadLettered) {
    const outcome = storedOutcome(item);
    return outcome ? { state: 'ended', outcome } : { state: 'ended' };
  }
  return { state: 'in_progress', expiresAtMs: Number(item?.expires_at_ms?.N ?? 0) };
}

function storedOutcome(item: Record<string, AttributeValue> | undefined): StoredOutcome | undefined {
  const json = item?.outcome?.S;
  if (json === undefined) return undefined;
  return { json, published: item?.outcome_published?.BOOL === true };
}

function outcomeAttributes(outcomeJson: string | undefined): Record<string, AttributeValue> {
  if (outcomeJson === undefined) return {};
  return { outcome: { S: outcomeJson }, outcome_published: { BOOL: false } };
}

/** The record of a message's end: its status, when, its outcome, kept as long as a completion. */
function finalRecord(
  messageId: string,
  status: typeof IdempotencyStatus.completed | typeof IdempotencyStatus.deadLettered,
  atField: 'completed_at_ms' | 'dead_lettered_at_ms',
  nowMs: number,
  outcomeJson: string | undefined,
): Record<string, AttributeValue> {
  return {
    [TABLE_PARTITION_KEY]: { S: IDEMPOTENCY_KEY_PREFIX + messageId },
    status: { S: status },
    [atField]: { N: String(nowMs) },
    ...outcomeAttributes(outcomeJson),
    [TABLE_TTL_ATTRIBUTE]: { N: String(Math.ceil(nowMs / 1000) + COMPLETED_RETENTION_SECONDS) },
  };
}
