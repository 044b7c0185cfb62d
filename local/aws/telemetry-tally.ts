import { LogEvent, Metric, MetricDimension } from '../../lambda/contract';
import type { MetricDimensionValue, WorkerTelemetry } from '../../lambda/worker/adapters/telemetry';
import type { Tally } from '../report/tally';

/**
 * Passes everything to the real telemetry (logs and EMF metrics, as on Lambda) and counts
 * what the report needs: completions by message id (from the `message.completed` event),
 * grants, requeues, inline waits, penalties and duplicates skipped (from the metrics).
 */
function productOf(
  dimension: MetricDimensionValue | readonly MetricDimensionValue[] | undefined,
): string | undefined {
  const all = dimension === undefined ? [] : Array.isArray(dimension) ? dimension : [dimension];
  return (all as readonly MetricDimensionValue[]).find((d) => d.name === MetricDimension.product)?.value;
}

export function countingTelemetry(inner: WorkerTelemetry, tally: Tally): WorkerTelemetry {
  return {
    ...inner,
    count(metric, value = 1, dimension) {
      if (metric === Metric.requeues) tally.requeues += value;
      else if (metric === Metric.inlineWaits) tally.inlineWaits += value;
      else if (metric === Metric.penalties) tally.penalties += value;
      else if (metric === Metric.duplicatesSkipped) tally.duplicatesSkipped += value;
      else if (metric === Metric.grants) tally.grants += value;
      else if (metric === Metric.circuitOpened) tally.circuit.opened += value;
      else if (metric === Metric.circuitProbes) tally.circuit.probes += value;
      else if (metric === Metric.circuitClosed) tally.circuit.closed += value;
      else if (metric === Metric.circuitDeferrals) tally.circuit.deferrals += value;
      else {
        const product = productOf(dimension);
        if (product !== undefined && metric === Metric.productGrants) tally.product(product).grants += value;
        if (product !== undefined && metric === Metric.productReservedUnits)
          tally.product(product).fromShare += value;
        if (product !== undefined && metric === Metric.productCommonUnits)
          tally.product(product).fromCommon += value;
      }
      inner.count(metric, value, dimension);
    },
    seconds(metric, value, dimension) {
      const product = productOf(dimension);
      if (metric === Metric.productMessageAge && product !== undefined) {
        const entry = tally.product(product);
        entry.maxAgeSeconds = Math.max(entry.maxAgeSeconds, value);
      }
      inner.seconds(metric, value, dimension);
    },
    error(event, fields) {
      if (event === LogEvent.messageFailed && typeof fields?.error === 'string')
        tally.lastWorkerError = fields.error;
      inner.error(event, fields);
    },
    info(event, fields) {
      const id = fields?.id;
      if (event === LogEvent.messageCompleted && typeof id === 'string') tally.completed(id);
      inner.info(event, fields);
    },
  };
}
