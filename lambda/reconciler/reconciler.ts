import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { Metric } from '../contract';
import type { ReconcileOptions, ReconcileReport } from '../sluice';
import { type CircuitReporting, reportCircuit } from './circuit-report';

/** What the reconciler needs of the SDK; `SluiceClient` fits. */
export interface Reconciling {
  reconcile(options?: ReconcileOptions): Promise<ReconcileReport>;
}

/**
 * One sweep (EventBridge Scheduler, at most every minute; reconcile is idempotent, so a tick
 * that arrives twice does no harm). The SDK paginates, goes on past a failing item and logs
 * `reconciler.scan_complete` with the counts, once per sweep; this publishes them as metrics.
 * Given `stopAtMs` (from the Lambda's remaining time), the sweep starts no page after it.
 */
export function createReconciler(
  sluice: Reconciling,
  metrics: Metrics,
  circuit?: CircuitReporting,
): (stopAtMs?: number) => Promise<ReconcileReport> {
  return async (stopAtMs) => {
    // The circuit's report first and on its own: a failing sweep must not silence it, nor it the sweep.
    let circuitError: unknown;
    try {
      if (circuit) await reportCircuit(circuit, metrics);
    } catch (error) {
      circuitError = error;
    }
    try {
      const report = await sluice.reconcile(stopAtMs === undefined ? undefined : { stopAtMs });
      metrics.addMetric(Metric.reconcilerRuns, MetricUnit.Count, 1);
      metrics.addMetric(Metric.reclaimedLeases, MetricUnit.Count, report.restored);
      metrics.addMetric(Metric.reconcilerItemErrors, MetricUnit.Count, report.failedItems);
      if (circuitError !== undefined) throw circuitError;
      return report;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
