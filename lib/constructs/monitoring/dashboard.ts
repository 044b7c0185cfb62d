import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { Metric } from '../../../lambda/contract';
import type { WorkerMetrics } from './metrics';

const WIDTH = 8;
const HEIGHT = 6;

function graph(title: string, left: cloudwatch.IMetric[], alarm?: cloudwatch.IAlarm): cloudwatch.IWidget {
  if (alarm) return new cloudwatch.AlarmWidget({ title, alarm, width: WIDTH, height: HEIGHT });
  return new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: HEIGHT });
}

/**
 * The layout only: rows of queue, worker, Sluice decisions and reconciler, every metric
 * taken from WorkerMetrics.
 */
export function buildDashboard(scope: Construct, id: string, metrics: WorkerMetrics): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, id);
  dashboard.addWidgets(
    graph('Queue depth', [metrics.queueDepth(), metrics.delayedMessages()]),
    graph('Age of the oldest message (s)', [metrics.oldestMessageAge(), metrics.endToEndAge()]),
    graph('DLQ depth', [metrics.deadLetterDepth()]),
  );
  dashboard.addWidgets(
    graph('Worker invocations, errors, throttles', [
      metrics.invocations(),
      metrics.errors(),
      metrics.throttles(),
    ]),
    graph('Worker duration p99 (ms)', [metrics.duration()]),
    graph('Worker concurrency', [metrics.concurrency()]),
  );
  // The admitted rate and the pool's fill side by side: a slow vendor needs calls in flight
  // ≈ allowed rate × latency; a pool full while the rate stays low says maxInFlight is short.
  dashboard.addWidgets(
    graph('Admitted rate (grants per minute)', [metrics.admittedRate()]),
    graph('Vendor calls in flight (max per minute)', [metrics.callsInFlight()]),
    graph('Grants and retry-ins', [metrics.custom(Metric.grants), metrics.custom(Metric.retryIns)]),
  );
  dashboard.addWidgets(
    graph('Requeues and penalties', [
      metrics.custom(Metric.requeues),
      metrics.custom(Metric.penalties),
      metrics.custom(Metric.unstartedRequeues),
    ]),
    graph('Vendor 429s after a grant', [metrics.custom(Metric.vendor429AfterGrant)]),
  );
  const outcomes = metrics.outcomesPublished();
  if (outcomes.length > 0) {
    dashboard.addWidgets(
      graph('Outcomes published, by product and class', outcomes),
      graph('Outcome publish failures and claim-checked bodies', [
        metrics.custom(Metric.outcomePublishFailures),
        metrics.custom(Metric.outcomeBodiesClaimChecked),
      ]),
    );
  }
  // The circuit's state over time, reported by the reconciler each run: open (1) or closed (0), and for how long.
  dashboard.addWidgets(
    graph('Vendor circuit: open (1) or closed (0), open for (s)', [
      metrics.circuitOpen(),
      metrics.circuitOpenSeconds(),
    ]),
    graph('Vendor circuit: opens, probes, closes, deferred messages', [
      metrics.custom(Metric.circuitOpened),
      metrics.custom(Metric.circuitProbes),
      metrics.custom(Metric.circuitClosed),
      metrics.custom(Metric.circuitDeferrals),
      metrics.custom(Metric.circuitUnreadable),
    ]),
  );
  const reconcilerErrors = metrics.reconcilerErrors();
  dashboard.addWidgets(
    graph('Messages failed in the worker (delivered again or dead-lettered)', [
      metrics.custom(Metric.messageFailures),
    ]),
  );
  if (metrics.sources.products?.length) {
    dashboard.addWidgets(
      graph('Admitted by product (grants per 5 min)', [
        metrics.productSearch(Metric.productGrants, 'Sum', 'Grants'),
      ]),
      graph('Share used and common taken, by product and bucket (units per 5 min)', [
        metrics.productSearch(Metric.productReservedUnits, 'Sum', 'From its share', true),
        metrics.productSearch(Metric.productCommonUnits, 'Sum', 'From the common part (borrowed)', true),
      ]),
      graph('Message age by product (max, s)', [
        metrics.productSearch(Metric.productMessageAge, 'Maximum', 'Age'),
      ]),
    );
  }
  dashboard.addWidgets(
    graph('Dead-lettered by reason', [metrics.deadLetteredByReason()]),
    graph('Refill rate after a penalty (% of configured), by bucket', [metrics.rateScaleByBucket()]),
    graph('Vendor states a limit below the configured rate (429s), by bucket', [
      metrics.statedLimitBelowConfiguredByBucket(),
    ]),
    graph('Reconciler: runs and reclaimed leases', [
      metrics.custom(Metric.reconcilerRuns),
      metrics.custom(Metric.reclaimedLeases),
      metrics.custom(Metric.reconcilerItemErrors),
      ...(reconcilerErrors ? [reconcilerErrors] : []),
    ]),
  );
  return dashboard;
}
