import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { MessageAttr } from '../contract';

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

/** A message sent without the producer helper has attempt 0 and was first seen when SQS got it. */
export function readDelivery(record: SQSRecord, nowMs: number): Delivery {
  const sentAt = Number(record.attributes?.SentTimestamp);
  return {
    attempt: numberAttribute(record, MessageAttr.attempt) ?? 0,
    firstSeenAtMs:
      numberAttribute(record, MessageAttr.firstSeenAtMs) ?? (Number.isFinite(sentAt) ? sentAt : nowMs),
    ...(isUnstarted(record) ? { unstarted: true } : {}),
  };
}

/** Whether the record is a copy of one an earlier invocation never started (see pool.ts). */
export function isUnstarted(record: SQSRecord): boolean {
  return record.messageAttributes?.[MessageAttr.unstarted]?.stringValue === '1';
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
