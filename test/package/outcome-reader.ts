import { fork } from 'node:child_process';
import * as path from 'node:path';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EventSourcePoller, type Invocation } from '../../local/event-source/poller';

/** One JSON log line of the example's reader (Powertools' fields plus its own, snake_case). */
export interface ReaderLogLine {
  readonly level: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

export interface OutcomeReaderProcess {
  /** Invokes the handler once, as the event source does. */
  readonly handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
  /** Every complete log line it wrote so far, stdout and stderr. */
  readonly logs: () => ReaderLogLine[];
  /** Those of one event (`outcome.read`, `outcome.unreadable`). */
  readonly linesOf: (message: string) => ReaderLogLine[];
  readonly stop: () => Promise<void>;
}

/**
 * The example's compiled outcome reader in a Node process of its own (read-outcomes-driver.cjs),
 * so it runs with the installed package exactly as deployed; its Lambda environment is `env`.
 */
export function startOutcomeReader(appDir: string, env: NodeJS.ProcessEnv): OutcomeReaderProcess {
  const child = fork(path.join(__dirname, 'read-outcomes-driver.cjs'), [appDir], {
    cwd: appDir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const text = { stdout: '', stderr: '' };
  child.stdout?.on('data', (chunk: Buffer) => {
    text.stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text.stderr += chunk.toString();
  });
  const pending = new Map<number, { resolve: (r: SQSBatchResponse) => void; reject: (e: Error) => void }>();
  let seq = 0;
  child.on('message', (reply: { seq: number; response?: SQSBatchResponse; error?: string }) => {
    const waiting = pending.get(reply.seq);
    pending.delete(reply.seq);
    if (reply.error !== undefined) waiting?.reject(new Error(reply.error));
    else waiting?.resolve(reply.response ?? { batchItemFailures: [] });
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.on('exit', (code) => {
    for (const waiting of pending.values()) {
      waiting.reject(new Error(`the reader exited ${code}:\n${text.stdout}\n${text.stderr}`));
    }
    pending.clear();
  });
  const lines = (output: string) =>
    output
      .split('\n')
      .slice(0, -1) // the last piece is an unfinished line (or empty)
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as ReaderLogLine);
  const logs = () => [...lines(text.stdout), ...lines(text.stderr)];
  return {
    handler: (event) =>
      new Promise((resolve, reject) => {
        seq += 1;
        pending.set(seq, { resolve, reject });
        child.send({ seq, event });
      }),
    logs,
    linesOf: (message) => logs().filter((line) => line.message === message),
    stop: async () => {
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

/**
 * Feeds the reader from its queue as Lambda's event source does (local/poller: batches of 10,
 * partial batch responses, only what succeeded deleted) until `done` holds: a state, not a
 * moment. Fails after `maxMs` of real time with every invocation and log line so far.
 */
export async function readOutcomesUntil(
  reader: OutcomeReaderProcess,
  sqs: SQSClient,
  queueUrl: string,
  done: () => boolean,
  maxMs = 120_000,
): Promise<Invocation[]> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const invocations: Invocation[] = [];
  const poller = new EventSourcePoller({
    sqs,
    queueUrl,
    queueArn: Attributes.QueueArn ?? 'arn:aws:sqs:local:000000000000:outcomes',
    handler: reader.handler,
    batchSize: 10,
    functionName: 'read-outcomes',
    timeoutSeconds: 20,
    waitTimeSeconds: 0,
    onInvocation: (invocation) => invocations.push(invocation),
  });
  const giveUpAt = Date.now() + maxMs;
  while (!done()) {
    if (Date.now() > giveUpAt) {
      throw new Error(
        `the reader did not get there: ${JSON.stringify({ invocations, logs: reader.logs() })}`,
      );
    }
    if ((await poller.pollOnce()) === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return invocations;
}
