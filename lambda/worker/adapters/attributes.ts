import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { MessageAttr } from '../../contract';

/**
 * What a delivery carries across requeues. A re-sent message is a new message to SQS (its
 * receive count and age start again), so the attempt and the first-seen time travel in
 * attributes; without them the limits could never be enforced.
 */
export interface Delivery {
  readonly attempt: number;
  readonly firstSeenAtMs: number;
  /** A copy of a record an earlier invocation never started: the pool starts it first. */
  readonly unstarted?: boolean;
}

function numberAttribute(record: SQSRecord, name: string): number | undefined {
  const text = record.messageAttributes?.[name]?.stringValue;
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  return Number(text);
}

/**
 * Whether SQS says the worker itself sent the record (its requeued copy): `SenderId` is
 * `<principal id>:<session>` for a role, and only the worker's Lambda can act as its role. With
 * `ownSenderIds` undefined (not configured: the local stack) every sender counts as the worker.
 */
export function sentByWorker(record: SQSRecord, ownSenderIds: readonly string[] | undefined): boolean {
  if (ownSenderIds === undefined) return true;
  const principal = record.attributes?.SenderId?.split(':')[0];
  return principal !== undefined && ownSenderIds.includes(principal);
}

/**
 * A message sent without the producer helper has attempt 0 and was first seen when SQS got it.
 * So has one a producer sent with `sluice-*` attributes of its own: they count only on the
 * worker's own copies (`sentByWorker`), so no producer can reset a message's age or attempts.
 */
export function readDelivery(record: SQSRecord, nowMs: number, ownSenderIds?: readonly string[]): Delivery {
  const sentAt = Number(record.attributes?.SentTimestamp);
  if (!sentByWorker(record, ownSenderIds)) {
    return { attempt: 0, firstSeenAtMs: Number.isFinite(sentAt) ? sentAt : nowMs };
  }
  return {
    attempt: numberAttribute(record, MessageAttr.attempt) ?? 0,
    firstSeenAtMs:
      numberAttribute(record, MessageAttr.firstSeenAtMs) ?? (Number.isFinite(sentAt) ? sentAt : nowMs),
    ...(isUnstarted(record, ownSenderIds) ? { unstarted: true } : {}),
  };
}

/** Whether the record is a copy of one an earlier invocation never started (see pool.ts). */
export function isUnstarted(record: SQSRecord, ownSenderIds?: readonly string[]): boolean {
  return (
    record.messageAttributes?.[MessageAttr.unstarted]?.stringValue === '1' &&
    sentByWorker(record, ownSenderIds)
  );
}

export function deliveryAttributes(delivery: Delivery): Record<string, MessageAttributeValue> {
  return {
    [MessageAttr.attempt]: { DataType: 'Number', StringValue: String(delivery.attempt) },
    [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: String(delivery.firstSeenAtMs) },
    ...(delivery.unstarted ? { [MessageAttr.unstarted]: { DataType: 'Number', StringValue: '1' } } : {}),
  };
}

/** SQS rejects an attribute value over 256 KiB with the message; a reason never needs that much. */
const MAX_DETAIL_CHARS = 1_000;

export function deadLetterAttributes(
  delivery: Delivery,
  reason: string,
  detail: string,
): Record<string, MessageAttributeValue> {
  const text = detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS - 1)}…` : detail;
  return {
    ...deliveryAttributes({ attempt: delivery.attempt, firstSeenAtMs: delivery.firstSeenAtMs }),
    [MessageAttr.deadLetterReason]: { DataType: 'String', StringValue: reason },
    [MessageAttr.deadLetterDetail]: { DataType: 'String', StringValue: text || reason },
  };
}
