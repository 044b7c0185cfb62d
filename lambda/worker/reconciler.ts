import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDbCircuitStore } from '../circuit/dynamo-store';
import { METRICS_NAMESPACE, Metric, WorkerEnv } from '../contract';
import { type ReconcileReport, SluiceClient, type SluiceSettings } from '../sluice';
import { createAwsClients } from './aws-clients';
import { type CircuitReporting, reportCircuit } from './circuit-report';

/** What the reconciler needs of the SDK; `SluiceClient` fits. */
export interface Reconciling {
  reconcile(): Promise<ReconcileReport>;
}

/**
 * One sweep (EventBridge Scheduler, at most every minute; reconcile is idempotent, so a tick
 * that arrives twice does no harm). The SDK paginates, goes on past a failing item and logs
 * `reconciler.scan_complete` with the counts, once per sweep; this publishes them as metrics.
 */
export function createReconciler(
  sluice: Reconciling,
  metrics: Metrics,
  circuit?: CircuitReporting,
): () => Promise<ReconcileReport> {
  return async () => {
    // The circuit's report first and on its own: a failing sweep must not silence it, nor it the sweep.
    let circuitError: unknown;
    try {
      if (circuit) await reportCircuit(circuit, metrics);
    } catch (error) {
      circuitError = error;
    }
    try {
      const report = await sluice.reconcile();
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

/**
 * The reconciler from the SDK's settings: the SDK on the bounded DynamoDB client, its log lines
 * under the service name; with `SLUICE_CIRCUIT_VENDOR` set (the stack sets it), it reports that
 * vendor's circuit on each run too.
 */
export function wireReconciler(
  settings: SluiceSettings,
  service = process.env[WorkerEnv.serviceName] ?? 'sluice',
): () => Promise<ReconcileReport> {
  const { dynamodb } = createAwsClients({ region: settings.region, dynamodbEndpoint: settings.endpointUrl });
  const logger = new Logger({ serviceName: service, logLevel: settings.logLevel });
  const vendor = process.env[WorkerEnv.circuitVendor];
  return createReconciler(
    new SluiceClient({ settings, dynamodb, logger }),
    new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service }),
    vendor
      ? {
          vendor,
          store: new DynamoDbCircuitStore(dynamodb, settings.tableName),
          clock: Date.now,
          log: logger,
        }
      : undefined,
  );
}
