import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, Metric } from '../../lambda/contract';
import { powertoolsTelemetry } from '../../lambda/worker/telemetry';

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
});
