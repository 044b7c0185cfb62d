import type { MetricName } from '../../lambda/contract';
import type { MetricDimensionValue, WorkerTelemetry } from '../../lambda/worker/adapters/telemetry';

export interface RecordedEvent {
  readonly level: 'info' | 'warn' | 'error';
  readonly event: string;
  readonly fields: Record<string, unknown>;
}

/** Telemetry that remembers what the worker reported, so tests can assert metrics and log events. */
export class RecordingTelemetry implements WorkerTelemetry {
  readonly counts = new Map<string, number>();
  readonly values = new Map<string, number[]>();
  readonly events: RecordedEvent[] = [];
  flushes = 0;

  count(
    metric: MetricName,
    value = 1,
    dimension?: MetricDimensionValue | readonly MetricDimensionValue[],
  ): void {
    const dimensions = dimension === undefined ? [] : Array.isArray(dimension) ? dimension : [dimension];
    const named = dimensions.map((each: MetricDimensionValue) => `${each.name}=${each.value}`).join(',');
    const key = named ? `${metric}[${named}]` : metric;
    this.counts.set(key, (this.counts.get(key) ?? 0) + value);
  }
  milliseconds(metric: MetricName, value: number): void {
    this.values.set(metric, [...(this.values.get(metric) ?? []), value]);
  }
  percent(
    metric: MetricName,
    value: number,
    dimension: { readonly name: string; readonly value: string },
  ): void {
    const key = `${metric}[${dimension.name}=${dimension.value}]`;
    this.values.set(key, [...(this.values.get(key) ?? []), value]);
  }
  seconds(metric: MetricName, value: number, dimension?: MetricDimensionValue): void {
    const key = dimension ? `${metric}[${dimension.name}=${dimension.value}]` : metric;
    this.values.set(key, [...(this.values.get(key) ?? []), value]);
  }
  info(event: string, fields: Record<string, unknown> = {}): void {
    this.events.push({ level: 'info', event, fields });
  }
  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.events.push({ level: 'warn', event, fields });
  }
  error(event: string, fields: Record<string, unknown> = {}): void {
    this.events.push({ level: 'error', event, fields });
  }
  flush(): void {
    this.flushes += 1;
  }

  countOf(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Fields of every event with this name, in order. */
  fieldsOf(event: string): Record<string, unknown>[] {
    return this.events.filter((recorded) => recorded.event === event).map((recorded) => recorded.fields);
  }
}
