import { type ReconcilerHandler, readReconcilerSettings, wireReconciler } from '../reconciler/wire';

/**
 * The reconciler Lambda (EventBridge Scheduler): lambda/reconciler/reconciler.ts. The SDK's
 * settings are read and the client is built once per environment, at the first invocation.
 */
let reconciler: ReconcilerHandler | undefined;

export async function handler(): ReturnType<ReconcilerHandler> {
  reconciler ??= wireReconciler(readReconcilerSettings());
  return reconciler();
}
