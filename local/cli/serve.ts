import { relative } from 'node:path';
import { LOCAL_REGION, type LocalResources } from '../aws/stack';
import type { MessageEvent } from '../report/tally';

/** What the serve mode (`npm start -- --serve`) prints: how to reach it, and each message as it goes. */

/** A path under the working folder is shown relative to it, as the user would type it. */
export function shortPath(path: string): string {
  const near = relative(process.cwd(), path);
  return near.startsWith('..') ? path : near;
}

/** One line per message event in the serve mode. */
export function describeEvent(event: MessageEvent): string {
  if (event.kind === 'delivered')
    return `→ ${event.id} ${event.delivery === 1 ? 'received' : `delivered again (delivery ${event.delivery})`}`;
  if (event.kind === 'completed') return `✓ ${event.id} completed`;
  return `✗ ${event.id} dead-lettered: ${event.reason}${event.detail ? ` (${event.detail})` : ''}`;
}

/** What a producer needs to reach the local queue: a command to copy, with every value filled in. */
export function serveInstructions(
  stack: Pick<LocalResources, 'queueUrl' | 'sqsEndpoint'>,
  example: Record<string, unknown>,
): string {
  return [
    'serving: the stack stays up until Ctrl-C, which prints the summary. Send work from another terminal:',
    `  npm run enqueue -- work.jsonl --queue-url ${stack.queueUrl} --endpoint-url ${stack.sqsEndpoint} --region ${LOCAL_REGION}`,
    `  (work.jsonl: one message per line, e.g. ${JSON.stringify({ ...example, id: 'work-1' })})`,
  ].join('\n');
}
