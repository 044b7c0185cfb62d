import { SQSClient } from '@aws-sdk/client-sqs';
import { type EnqueueReport, enqueue, type WorkMessage } from 'sluice-aws/producer';
import { readEnqueueSettings } from './settings';

export interface EnqueueWorkEvent {
  /** Work for the reference worker, in its message contract (checked before anything is sent). */
  readonly messages: readonly WorkMessage[];
}

let sqs: SQSClient | undefined;

/**
 * Hands work to the Sluice stack's reference worker: it waits for capacity, calls the vendor,
 * retries and dead-letters by the decision tree, and shares the buckets with every other
 * caller. Only `sqs:SendMessage` on the worker's queue is needed (`grantEnqueue`).
 */
export async function handler(event: EnqueueWorkEvent): Promise<EnqueueReport> {
  const settings = readEnqueueSettings();
  sqs ??= new SQSClient({});
  return enqueue(sqs, settings.WORK_QUEUE_URL, event.messages);
}
