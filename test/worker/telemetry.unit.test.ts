import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, Metric } from '../../lambda/contract';
import { powertoolsTelemetry } from '../../lambda/worker/adapters/telemetry';

type EmfDirectives = { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] };

/** The CloudWatch directive of one published EMF document. */
function directive(emf: Record<string, unknown> | undefined) {
  return (emf?._aws as EmfDirectives | undefined)?.CloudWatchMetrics[0];
}

/** What Powertools would print: captured from its serializer instead of stdout. */
function capturingMetrics(): { metrics: Metrics; published: Record<string, unknown>[] } {
  const published: Record<string, unknown>[] = [];
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'waitwhile' });
  const capture = (instance: Metrics) => {
    jest.spyOn(instance, 'publishStoredMetrics').mockImplementation(function (this: Metrics) {
      published.push(this.serializeMetrics() as unknown as Record<string, unknown>);
      this.clearMetrics();
      return this;
    });
  };
  capture(metrics);
  const single = metrics.singleMetric.bind(metrics);
  jest.spyOn(metrics, 'singleMetric').mockImplementation(() => {
    const instance = single();
    capture(instance);
    return instance;
  });
  return { metrics, published };
}

describe('the Powertools telemetry', () => {
  it('publishes counts once per flush under the service dimension, and per-class counts as single metrics', () => {
    const { metrics, published } = capturingMetrics();
    const telemetry = powertoolsTelemetry(new Logger({ logLevel: 'SILENT' }), metrics);
    telemetry.count(Metric.grants);
    telemetry.count(Metric.grants);
    telemetry.milliseconds(Metric.acquireLatency, 12);
    telemetry.count(Metric.vendorCalls, 1, { name: 'ResponseClass', value: 'success' });
    telemetry.flush();
    telemetry.flush();
    expect(published).toHaveLength(2);
    expect(published[0]).toMatchObject({ service: 'waitwhile', ResponseClass: 'success', VendorCalls: 1 });
    const single = directive(published[0]);
    expect(single?.Dimensions).toEqual([['service', 'ResponseClass']]);
    expect(published[1]).toMatchObject({ service: 'waitwhile', Grants: [1, 1], AcquireLatency: 12 });
    const directives = directive(published[1]);
    expect(directives?.Namespace).toBe('Sluice');
    expect(directives?.Dimensions).toEqual([['service']]);
  });

  it('gives a percent or seconds with a dimension a metric of its own, and names the event in every log line', () => {
    const { metrics, published } = capturingMetrics();
    const logger = new Logger({ logLevel: 'SILENT' });
    const lines: unknown[][] = [];
    for (const level of ['info', 'warn', 'error'] as const) {
      jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        lines.push([level, ...args]);
      });
    }
    const telemetry = powertoolsTelemetry(logger, metrics);
    telemetry.percent(Metric.rateScale, 5, { name: 'Bucket', value: 'openai#rpm' });
    telemetry.seconds(Metric.productMessageAge, 3, { name: 'Product', value: 'checkout' });
    telemetry.seconds(Metric.messageAge, 2);
    telemetry.info('message.completed', { id: 'a' });
    telemetry.warn('message.failed', { id: 'b' });
    telemetry.error('message.failed');
    telemetry.flush();
    expect(published.map((emf) => directive(emf)?.Dimensions)).toEqual([
      [['service', 'Bucket']],
      [['service', 'Product']],
      [['service']],
    ]);
    expect(published.slice(0, 2)).toEqual([
      expect.objectContaining({ Bucket: 'openai#rpm', RateScale: 5 }),
      expect.objectContaining({ Product: 'checkout', [Metric.productMessageAge]: 3 }),
    ]);
    expect(published[2]).toMatchObject({ [Metric.messageAge]: 2 });
    expect(lines).toEqual([
      ['info', 'message.completed', { event: 'message.completed', id: 'a' }],
      ['warn', 'message.failed', { event: 'message.failed', id: 'b' }],
      ['error', 'message.failed', { event: 'message.failed' }],
    ]);
  });
});
