/**
 * How long one AWS SDK call may take, for every client the runtime builds (DynamoDB, SQS,
 * Secrets Manager, and any later one). The SDK's defaults (3 attempts, no request timeout)
 * let a call to an endpoint that accepts connections and never answers wait for ever; a
 * Lambda timeout then kills the invocation without running `finally`, so a slot is not
 * released and the batch is not reported. With these bounds such a call fails with a
 * `TimeoutError` in at most `AWS_CALL_WORST_CASE_MS`, inside the margin between the slot
 * deadline and the Lambda timeout (docs/worker.md, "Silent AWS endpoints").
 *
 * Plain values only (no AWS SDK import), so the SDK in lambda/sluice can build its own client
 * from the same bounds.
 */
export const AWS_CLIENT_MAX_ATTEMPTS = 2;
/** The TCP (and TLS) connection must be up within this. */
export const AWS_CONNECTION_TIMEOUT_MS = 1_000;
/** From the start of an attempt to the response headers, connection included. */
export const AWS_REQUEST_TIMEOUT_MS = 1_500;
/** A response body that stalls this long after its headers fails the attempt too. */
export const AWS_SOCKET_IDLE_TIMEOUT_MS = 1_500;
/**
 * The AWS SDK's first retry waits a random delay below its base (50 ms in the installed
 * version, 100 ms in older ones); this bounds it from above.
 */
export const AWS_RETRY_DELAY_BOUND_MS = 100;

/** The longest one call can take against a silent endpoint: every attempt times out. */
export const AWS_CALL_WORST_CASE_MS =
  AWS_CLIENT_MAX_ATTEMPTS * AWS_REQUEST_TIMEOUT_MS + (AWS_CLIENT_MAX_ATTEMPTS - 1) * AWS_RETRY_DELAY_BOUND_MS;

/** The constructor options every AWS SDK v3 client of the runtime shares. */
export interface BoundedAwsClientOptions {
  readonly region?: string;
  readonly endpoint?: string;
  readonly maxAttempts: number;
  readonly requestHandler: {
    readonly connectionTimeout: number;
    readonly requestTimeout: number;
    /** Without it the installed @smithy/node-http-handler only logs a warning when requestTimeout passes. */
    readonly throwOnRequestTimeout: true;
    readonly socketTimeout: number;
  };
}

export function boundedAwsClientOptions(
  options: { readonly region?: string; readonly endpoint?: string } = {},
): BoundedAwsClientOptions {
  return {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    maxAttempts: AWS_CLIENT_MAX_ATTEMPTS,
    // The SDK builds its NodeHttpHandler from these (no direct dependency on @smithy packages).
    requestHandler: {
      connectionTimeout: AWS_CONNECTION_TIMEOUT_MS,
      requestTimeout: AWS_REQUEST_TIMEOUT_MS,
      throwOnRequestTimeout: true,
      socketTimeout: AWS_SOCKET_IDLE_TIMEOUT_MS,
    },
  };
}
