/**
 * `sluice-aws/constructs`: the CDK side of Sluice. The whole stack (SluiceStack), its parts
 * for an app of your own, and the imports and grants a product in another CDK app needs
 * (README, "Adding a second product").
 */

export { isSluiceConfigError, SluiceConfigError } from '../../lambda/sluice';
export {
  type AlarmThresholds,
  loadStackConfig,
  parseStackConfig,
  type StackConfig,
  type StackConfigInput,
} from '../config';
export { BucketSeeding, type BucketSeedingProps } from './bucket-seeding';
export {
  BucketTable,
  type BucketTableFromStageProps,
  type BucketTableProps,
  DISPOSABLE_STAGES,
  type IBucketTable,
} from './bucket-table';
export { SluiceMonitoring, type SluiceMonitoringProps } from './monitoring/sluice-monitoring';
export {
  RECONCILER_TABLE_ACTIONS,
  SDK_CALLER_TABLE_ACTIONS,
  SEEDING_TABLE_ACTIONS,
  WORKER_TABLE_ACTIONS,
} from './permissions';
export { PRODUCT_DIMENSION, ProductAcquireMetrics, type ProductAcquireMetricsProps } from './product-metrics';
export {
  type IRateLimitedWorker,
  RateLimitedWorker,
  type RateLimitedWorkerFromStageProps,
  type RateLimitedWorkerProps,
} from './rate-limited-worker';
export { ReconcilerFunction, type ReconcilerFunctionProps } from './reconciler-function';
export { SLUICE_RUNTIME } from './sluice-function';
export { type AddWorkerOptions, SluiceStack, type SluiceStackProps } from './sluice-stack';
export { SluiceParameterNames } from './stage-parameters';
