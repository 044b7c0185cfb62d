import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type DeadLetterRelayHandler, readRelayConfig, wireDeadLetterRelay } from '../relay/wire';

/**
 * The dead-letter relay Lambda (SQS event source on the relay queue, the work queue's redrive
 * target): lambda/relay/dead-letter-relay.ts. Configuration is read and the clients are built
 * once per environment, at the first invocation.
 */
let relay: DeadLetterRelayHandler | undefined;

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  relay ??= wireDeadLetterRelay(readRelayConfig());
  return relay(event);
}
