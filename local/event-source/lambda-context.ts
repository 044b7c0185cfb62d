import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

/**
 * A Lambda-like invocation context whose `getRemainingTimeInMillis()` counts down from the
 * configured function timeout, so the worker derives its slot deadline exactly as it does on
 * AWS (remaining time − 5 s). The clock is injected so tests need no sleeps.
 */
export function createLambdaContext(options: {
  readonly functionName: string;
  readonly timeoutSeconds: number;
  readonly memoryMb?: number;
  readonly region?: string;
  readonly nowMs?: () => number;
}): Context {
  const now = options.nowMs ?? Date.now;
  const deadlineMs = now() + options.timeoutSeconds * 1000;
  const region = options.region ?? 'local';
  const unsupported = (what: string) => () => {
    throw new Error(`${what} is not supported by the local stack: handlers must be async.`);
  };
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 512),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `local/${options.functionName}`,
    getRemainingTimeInMillis: () => Math.max(0, deadlineMs - now()),
    done: unsupported('context.done'),
    fail: unsupported('context.fail'),
    succeed: unsupported('context.succeed'),
  };
}
