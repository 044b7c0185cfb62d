import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { LogEvent, METRICS_NAMESPACE, Metric, WorkerEnv } from '../contract';
import { type ReconcileReport, SluiceClient, SluiceConfig, type SluiceLogger } from '../sluice';
import { createAwsClients } from '../worker/aws-clients';

/** What the reconciler needs of the SDK; `SluiceClient` fits. */
export interface Reconciling {
  reconcile(): Promise<ReconcileReport>;
}

/**
 * One sweep (EventBridge Scheduler, at most every minute; reconcile is idempotent, so a tick
 * that arrives twice does no harm). The SDK paginates and goes on past a failing item; this
 * handler logs the counts and publishes them as metrics.
 */
export function createReconciler(
  sluice: Reconciling,
  logger: Logger,
  metrics: Metrics,
): () => Promise<ReconcileReport> {
  return async () => {
    try {
      const report = await sluice.reconcile();
      logger.info(LogEvent.reconcilerScanComplete, {
        event: LogEvent.reconcilerScanComplete,
        total_leases: report.totalLeases,
        restored: report.restored,
        deleted: report.deleted,
        failed_items: report.failedItems,
      });
      metrics.addMetric(Metric.reconcilerRuns, MetricUnit.Count, 1);
      metrics.addMetric(Metric.reclaimedLeases, MetricUnit.Count, report.restored);
      metrics.addMetric(Metric.reconcilerItemErrors, MetricUnit.Count, report.failedItems);
      return report;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** The SDK logs its own scan_complete; this handler logs it once, with the same fields, so a count query counts each run once. */
function withoutScanComplete(logger: Logger): SluiceLogger {
  return {
    debug: (message, fields) => logger.debug(message, fields),
    info: (message, fields) => {
      if (message !== LogEvent.reconcilerScanComplete) logger.info(message, fields);
    },
    warn: (message, fields) => logger.warn(message, fields),
    error: (message, fields) => logger.error(message, fields),
  };
}

let reconciler: (() => Promise<ReconcileReport>) | undefined;

export async function handler(): Promise<ReconcileReport> {
  if (!reconciler) {
    const settings = SluiceConfig.fromEnv();
    const { dynamodb } = createAwsClients({
      region: settings.region,
      dynamodbEndpoint: settings.endpointUrl,
    });
    const service = process.env[WorkerEnv.serviceName] ?? 'sluice';
    const logger = new Logger({ serviceName: service, logLevel: settings.logLevel });
    reconciler = createReconciler(
      new SluiceClient({ settings, dynamodb, logger: withoutScanComplete(logger) }),
      logger,
      new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service }),
    );
  }
  return reconciler();
}
