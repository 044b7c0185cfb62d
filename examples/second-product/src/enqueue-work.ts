import { SQSClient } from '@aws-sdk/client-sqs';
import { type EnqueueReport, enqueue, type WorkMessage } from 'sluice-aws/producer';
import { readEnqueueSettings } from './settings';

export interface EnqueueWorkEvent {
  /**
   * Work for the reference worker, in its message contract (checked before anything is sent).
   * The product is not the caller's to choose: every message carries this Lambda's own.
   */
  readonly messages: readonly Omit<WorkMessage, 'product'>[];
}

let sqs: SQSClient | undefined;

/**
 * Hands work to the Sluice stack's reference worker: it waits for capacity, calls the vendor,
 * retries and dead-letters by the decision tree, and shares the buckets with every other
 * caller. Each message carries this product's name (from configuration, `SLUICE_PRODUCT`), so
 * the worker publishes its outcome to this product's subscription, where `read-outcomes` takes
 * it. Only `sqs:SendMessage` on the worker's queue is needed (`grantEnqueue`).
 */
export async function handler(event: EnqueueWorkEvent): Promise<EnqueueReport> {
  const settings = readEnqueueSettings();
  sqs ??= new SQSClient({});
  const messages = event.messages.map((message) => ({ ...message, product: settings.SLUICE_PRODUCT }));
  return enqueue(sqs, settings.WORK_QUEUE_URL, messages);
}
