import type { AcquireResult, Granted, SlotHandle, SlotOptions } from '../core/types';
import { SlotTimeoutError } from '../errors';
import { type RefusalBasis, refusedFromCache } from './acquire';
import { type AcquireOptions, productField } from './acquire-options';
import type { SluiceContext } from './context';
import { SluiceLogEvent } from './log-events';

/**
 * Acquire, waiting the returned waits, until granted or the deadline. A wait that would end
 * past the deadline fails at once: sleeping first could not help, but a refusal computed from
 * a cached view is first checked by one attempt on a fresh read (the table may hold more than
 * the cache: a refund or a release elsewhere), so the deadline never fails on a cached answer.
 * The handle's release is idempotent and `await using` releases it on scope exit.
 */
export async function slot(
  ctx: SluiceContext,
  dimensions: readonly string[],
  attempt: (refusal: RefusalBasis) => Promise<AcquireResult>,
  options: SlotOptions & AcquireOptions = {},
): Promise<SlotHandle> {
  const label = productField(options);
  const timeoutSeconds = options.timeoutSeconds ?? ctx.settings.defaultSlotTimeoutSeconds;
  const deadlineMs = ctx.clock() + timeoutSeconds * 1000;
  let refusal: RefusalBasis = 'recent';
  for (;;) {
    options.signal?.throwIfAborted();
    const result = await attempt(refusal);
    refusal = 'recent';
    if (result.outcome === 'Granted') return handle(result);
    const remainingMs = deadlineMs - ctx.clock();
    const waitMs = Math.ceil(result.waitSeconds * 1000);
    if (waitMs > remainingMs && refusedFromCache.has(result)) {
      refusal = 'fresh';
      continue;
    }
    if (waitMs > remainingMs) {
      ctx.logger.warn(SluiceLogEvent.slotTimeout, {
        dimensions,
        timeout_seconds: timeoutSeconds,
        wait_seconds: result.waitSeconds,
        ...label,
      });
      throw new SlotTimeoutError(
        `slot for ${dimensions.join(', ')} not granted within ${timeoutSeconds} s: ${result.dimension} asks to wait ` +
          `${result.waitSeconds} s and ${Math.max(0, remainingMs) / 1000} s remain`,
        dimensions,
        timeoutSeconds,
      );
    }
    await ctx.sleep(waitMs, options.signal);
  }
}

function handle(grant: Granted): SlotHandle {
  return {
    grant,
    release: () => grant.release(),
    [Symbol.asyncDispose]: () => grant.release(),
  };
}

/** setTimeout that an AbortSignal cuts short (rejecting with the signal's reason). */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
