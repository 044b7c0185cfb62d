/**
 * Response classes of the worker's decision tree (docs/worker.md, "The decision tree, as implemented"). The class decides who reacts:
 * the vendor client retries `transient` (when safe), the worker owns `rate_limited` and
 * `busy` (penalize, back off, requeue), and `unauthorized`/`rejected` go to the DLQ.
 */
export type ResponseClass =
  /** 2xx */
  | 'success'
  /** 429 */
  | 'rate_limited'
  /** 503, and 409 where the vendor documents it as back-pressure ("Location too busy") */
  | 'busy'
  /** 408, 425, 500, 502, 504, other 5xx, a timeout, a network error */
  | 'transient'
  /** 401, 403 */
  | 'unauthorized'
  /** any other 4xx, and a 3xx (a redirect is never followed): repeating the request never fixes it */
  | 'rejected';

export interface ClassifyOptions {
  /** Statuses the vendor documents as back-pressure, besides 503 (`vendor.busyStatuses`). @default [409] */
  readonly busyStatuses?: readonly number[];
}

/** 409 is back-pressure by default because booking vendors document it so ("Location too busy"). */
const DEFAULT_BUSY_STATUSES: readonly number[] = [409];

export function classifyStatus(status: number, options: ClassifyOptions = {}): ResponseClass {
  if (!Number.isInteger(status) || status < 100 || status > 599) {
    throw new RangeError(`HTTP status ${status} is not an integer between 100 and 599`);
  }
  if (status >= 200 && status < 300) return 'success';
  if (status === 429) return 'rate_limited';
  if (status === 503 || (options.busyStatuses ?? DEFAULT_BUSY_STATUSES).includes(status)) return 'busy';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 408 || status === 425 || status >= 500) return 'transient';
  // A 3xx reaches here: the client never follows a redirect (its Location could be any host),
  // so it is an answer the worker cannot use. fetch never hands a 1xx over. Both are rejected.
  return 'rejected';
}

/** Classes the vendor client may repeat on its own, within its retry budget. */
export function isRetriedByClient(responseClass: ResponseClass): boolean {
  return responseClass === 'transient';
}
