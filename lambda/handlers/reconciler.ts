import { type ReconcileReport, SluiceConfig } from '../sluice';
import { wireReconciler } from '../worker/reconciler';

/**
 * The reconciler Lambda (EventBridge Scheduler): lambda/worker/reconciler.ts. The SDK's
 * settings are read and the client is built once per environment, at the first invocation.
 */
let reconciler: (() => Promise<ReconcileReport>) | undefined;

export async function handler(): Promise<ReconcileReport> {
  reconciler ??= wireReconciler(SluiceConfig.fromEnv());
  return reconciler();
}
