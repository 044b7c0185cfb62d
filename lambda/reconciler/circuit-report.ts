import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { isOpen } from '../circuit/state';
import type { CircuitStore } from '../circuit/store';
import { LogEvent, Metric } from '../contract';

/**
 * The vendor circuit as the reconciler reports it on each run (every minute on AWS), whether
 * or not any message comes by: its state (`CircuitOpen` 1 or 0) and how long it has been open
 * (`CircuitOpenSeconds`, 0 while closed), so the `VendorCircuitOpen` alarm fires and clears on
 * time with an empty queue. It only reads the item; the workers write it.
 */
export interface CircuitReporting {
  readonly vendor: string;
  readonly store: Pick<CircuitStore, 'read'>;
  readonly clock: () => number;
  readonly log: {
    info(message: string, fields: Record<string, unknown>): void;
    error(message: string, fields: Record<string, unknown>): void;
  };
}

export interface CircuitReport {
  readonly status: 'closed' | 'open' | 'unauthorized';
  readonly openSeconds: number;
  /** What is wrong with the item, when it cannot be read (reported as closed, as the workers take it). */
  readonly unreadable?: string;
}

export async function reportCircuit(circuit: CircuitReporting, metrics: Metrics): Promise<CircuitReport> {
  const stored = await circuit.store.read(circuit.vendor);
  const nowMs = circuit.clock();
  const state = stored?.state;
  const open = state !== undefined && isOpen(state);
  const openSeconds = open ? Math.max(0, Math.round((nowMs - (state.openedAtMs ?? nowMs)) / 1000)) : 0;
  const report: CircuitReport = {
    status: state?.status ?? 'closed',
    openSeconds,
    ...(stored?.unreadable === undefined ? {} : { unreadable: stored.unreadable }),
  };
  metrics.addMetric(Metric.circuitOpen, MetricUnit.Count, open ? 1 : 0);
  metrics.addMetric(Metric.circuitOpenSeconds, MetricUnit.Seconds, openSeconds);
  if (report.unreadable !== undefined) {
    metrics.addMetric(Metric.circuitUnreadable, MetricUnit.Count, 1);
    circuit.log.error(LogEvent.circuitUnreadable, {
      vendor: circuit.vendor,
      problem: report.unreadable,
      taken_as: 'closed',
    });
  }
  circuit.log.info(LogEvent.circuitState, {
    vendor: circuit.vendor,
    status: report.status,
    open_seconds: openSeconds,
    ...(state?.detail === undefined ? {} : { detail: state.detail }),
  });
  return report;
}
