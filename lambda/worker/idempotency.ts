import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_PARTITION_KEY, TABLE_TTL_ATTRIBUTE } from '../contract';

/**
 * Idempotency as a conditional record in the bucket table (the Powertools Idempotency
 * state machine, reduced to what the worker needs): `idem#<messageId>` is IN_PROGRESS while a
 * delivery works on it, with an expiry, and COMPLETED after the vendor's 2xx. SQS delivers
 * at least once and a requeued copy may meet its original, so a completed id must be
 * acknowledged without a second vendor call.
 */

export const IDEMPOTENCY_KEY_PREFIX = 'idem#';
export const IdempotencyStatus = { inProgress: 'IN_PROGRESS', completed: 'COMPLETED' } as const;

/** Completed ids are remembered this long (DynamoDB TTL deletes them days after that, never earlier). */
export const COMPLETED_RETENTION_SECONDS = 7 * 86_400;

/** An abandoned IN_PROGRESS record is garbage-collected by TTL a day after its lease expired. */
const IN_PROGRESS_TTL_GRACE_SECONDS = 86_400;

export type BeginResult =
  | { readonly state: 'started'; readonly owner: string }
  | { readonly state: 'completed' }
  /** Another delivery holds an unexpired lease on this id: come back after `expiresAtMs`. */
  | { readonly state: 'in_progress'; readonly expiresAtMs: number };

export interface IdempotencyStore {
  /** Claims the id until `expiresAtMs` unless it completed or another unexpired claim holds it. */
  begin(messageId: string, nowMs: number, expiresAtMs: number): Promise<BeginResult>;
  complete(messageId: string, nowMs: number): Promise<void>;
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
      await this.dynamodb.send(
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
          // Lets through: a new id, or an IN_PROGRESS claim whose holder died (lease expired).
          // Stops: a COMPLETED id (any age: TTL may not have removed it yet, and it still counts),
          // and a live claim of another delivery.
          ConditionExpression: 'attribute_not_exists(#pk) OR (#status = :inProgress AND #expires < :now)',
          ExpressionAttributeNames: {
            '#pk': TABLE_PARTITION_KEY,
            '#status': 'status',
            '#expires': 'expires_at_ms',
          },
          ExpressionAttributeValues: {
            ':inProgress': { S: IdempotencyStatus.inProgress },
            ':now': { N: String(nowMs) },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { state: 'started', owner };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return fromExisting(error.Item);
    }
  }

  async complete(messageId: string, nowMs: number): Promise<void> {
    // Unconditional: the vendor answered 2xx, so the id is completed whoever holds the claim.
    await this.dynamodb.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          [TABLE_PARTITION_KEY]: { S: IDEMPOTENCY_KEY_PREFIX + messageId },
          status: { S: IdempotencyStatus.completed },
          completed_at_ms: { N: String(nowMs) },
          [TABLE_TTL_ATTRIBUTE]: { N: String(Math.ceil(nowMs / 1000) + COMPLETED_RETENTION_SECONDS) },
        },
      }),
    );
  }

  async abandon(messageId: string, owner: string): Promise<void> {
    try {
      await this.dynamodb.send(
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
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

function fromExisting(item: Record<string, AttributeValue> | undefined): BeginResult {
  if (item?.status?.S === IdempotencyStatus.completed) return { state: 'completed' };
  return { state: 'in_progress', expiresAtMs: Number(item?.expires_at_ms?.N ?? 0) };
}
