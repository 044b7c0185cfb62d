import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE } from '../contract';
import { isConditionFailed, sendMapped } from '../sluice';

/**
 * Idempotency as a conditional record in the bucket table (the Powertools Idempotency
 * state machine, reduced to what the worker needs): `idem#<messageId>` is IN_PROGRESS while a
 * delivery works on it, with an expiry, and COMPLETED after the vendor's 2xx. SQS delivers
 * at least once and a requeued copy may meet its original, so a completed id must be
 * acknowledged without a second vendor call.
 *
 * The record also keeps the message's final outcome event (`outcome`, JSON, its body already
 * claim-checked to S3 when large) and whether it was published: the outcome is stored before
 * it is published, so a delivery after a failed publish publishes it again instead of calling
 * the vendor. A dead-lettered message leaves DEAD_LETTERED with its outcome; once that is
 * published, the id may start again (an operator redriving the DLQ).
 */

export const IDEMPOTENCY_KEY_PREFIX = 'idem#';
export const IdempotencyStatus = {
  inProgress: 'IN_PROGRESS',
  completed: 'COMPLETED',
  deadLettered: 'DEAD_LETTERED',
} as const;

/** Completed ids are remembered this long (DynamoDB TTL deletes them days after that, never earlier). */
export const COMPLETED_RETENTION_SECONDS = 7 * 86_400;

/** An abandoned IN_PROGRESS record is garbage-collected by TTL a day after its lease expired. */
const IN_PROGRESS_TTL_GRACE_SECONDS = 86_400;

export type BeginResult =
  | { readonly state: 'started'; readonly owner: string }
  /**
   * The id ended: COMPLETED, or DEAD_LETTERED with an outcome not yet published. `outcome` is
   * the stored outcome event (absent for a completion recorded before outcomes existed).
   */
  | { readonly state: 'ended'; readonly outcome?: StoredOutcome }
  /** Another delivery holds an unexpired lease on this id: come back after `expiresAtMs`. */
  | { readonly state: 'in_progress'; readonly expiresAtMs: number };

/** A message's final outcome event as stored in its idempotency record. */
export interface StoredOutcome {
  /** The outcome event's JSON, exactly as published. */
  readonly json: string;
  readonly published: boolean;
}

export interface IdempotencyStore {
  /** Claims the id until `expiresAtMs` unless it ended or another unexpired claim holds it. */
  begin(messageId: string, nowMs: number, expiresAtMs: number): Promise<BeginResult>;
  /** Records the 2xx, with the outcome event to publish (unpublished). */
  complete(messageId: string, nowMs: number, outcomeJson?: string): Promise<void>;
  /**
   * Records a dead-lettered end with its outcome event, unless the id already ended: then the
   * stored outcome is returned instead (one final outcome per id; a completion wins, and a
   * repeated dead letter keeps the first). Returns the stored outcome, published or not.
   */
  deadLettered(messageId: string, nowMs: number, outcomeJson: string): Promise<StoredOutcome | undefined>;
  /** Notes that the stored outcome was published, so later deliveries need not publish it again. */
  markPublished(messageId: string): Promise<void>;
  /** Gives the claim up (requeue, DLQ, error), so the next delivery needs not wait for the expiry. */
  abandon(messageId: string, owner: string): Promise<void>;
}

export class DynamoDbIdempotencyStore implements IdempotencyStore {
  constructor(
    private readonly dynamodb: DynamoDBClient,
    private readonly tableName: string,
    private readonly newOwner: () => string,
  ) {}

  async begin(messageId: string, nowMs: number, expiresAtMs: number): Promise<BeginResult> {
    const owner = this.newOwner();
    try {
      await sendMapped(() =>
        this.dynamodb.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              [TABLE_PARTITION_KEY]: { S: IDEMPOTENCY_KEY_PREFIX + messageId },
              status: { S: IdempotencyStatus.inProgress },
              owner: { S: owner },
              expires_at_ms: { N: String(expiresAtMs) },
              [TABLE_TTL_ATTRIBUTE]: {
                N: String(Math.ceil(expiresAtMs / 1000) + IN_PROGRESS_TTL_GRACE_SECONDS),
              },
            },
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
