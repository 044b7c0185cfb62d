import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LogEvent, Metric } from '../../lambda/contract';

export interface ProductAcquireMetricsProps {
  /** The log group of a Lambda that calls the SDK with a `product` label. */
  readonly logGroup: logs.ILogGroup;
}

/** The metric dimension that carries the product label. */
export const PRODUCT_DIMENSION = 'Product';

/**
 * Grants and retry-ins by product, in the `Sluice` namespace, counted from the SDK's own log
 * events (`acquire.granted`, `acquire.retry_in` with a `product` field): no metric code in the
 * hot path, and no more series than there are configured product names.
 */
export class ProductAcquireMetrics extends Construct {
  readonly filters: Readonly<Record<'grants' | 'retryIns', logs.MetricFilter>>;

  constructor(scope: Construct, id: string, props: ProductAcquireMetricsProps) {
    super(scope, id);
    const filter = (filterId: string, event: string, metricName: string) =>
      new logs.MetricFilter(this, filterId, {
        logGroup: props.logGroup,
        filterPattern: logs.FilterPattern.all(
          logs.FilterPattern.stringValue('$.message', '=', event),
          logs.FilterPattern.exists('$.product'),
        ),
        metricNamespace: 'Sluice',
        metricName,
        metricValue: '1',
        dimensions: { [PRODUCT_DIMENSION]: '$.product' },
      });
    this.filters = {
      grants: filter('Grants', LogEvent.acquireGranted, Metric.grants),
      retryIns: filter('RetryIns', LogEvent.acquireRetryIn, Metric.retryIns),
    };
  }
}
