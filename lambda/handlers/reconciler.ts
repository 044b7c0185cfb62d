import type { Context } from 'aws-lambda';
import {
  type ReconcilerHandler,
  readReconcilerSettings,
  SWEEP_MARGIN_MS,
  wireReconciler,
} from '../reconciler/wire';

/**
 * The reconciler Lambda (EventBridge Scheduler): lambda/reconciler/reconciler.ts. The SDK's
 * settings are read and the client is built once per environment, at the first invocation.
 */
let reconciler: ReconcilerHandler | undefined;

export async function handler(
  _event?: unknown,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): ReturnType<ReconcilerHandler> {
  reconciler ??= wireReconciler(readReconcilerSettings());
  return reconciler(
    context === undefined ? undefined : Date.now() + context.getRemainingTimeInMillis() - SWEEP_MARGIN_MS,
  );
}
