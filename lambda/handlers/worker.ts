import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readWorkerConfig, type WorkerHandler, wireWorker } from '../worker/wire';

/**
 * The worker Lambda (SQS event source, reserved concurrency 1). Configuration is read and
 * the clients are built once per environment, at the first invocation; an invalid
 * configuration fails that invocation with every problem in one message.
 */
let worker: WorkerHandler | undefined;

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  worker ??= wireWorker(readWorkerConfig());
  return worker(event, context);
}
