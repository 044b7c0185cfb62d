import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDbCircuitStore } from '../circuit/dynamo-store';
import { METRICS_NAMESPACE, WorkerEnv } from '../contract';
import { type ReconcileReport, SluiceClient, SluiceConfig, type SluiceSettings } from '../sluice';
import { createAwsClients } from '../worker/adapters/aws-clients';
import { createReconciler } from './reconciler';

/** The reconciler Lambda's handler: one sweep per scheduled tick, no page started after `stopAtMs`. */
export type ReconcilerHandler = (stopAtMs?: number) => Promise<ReconcileReport>;

/**
 * Time kept back from the Lambda's timeout: the last page's reads and writes (up to 100 items)
 * and publishing the metrics still fit, so a run that meets its budget ends with its counts.
 */
export const SWEEP_MARGIN_MS = 10_000;

/** The reconciler's settings, read once per cold start: the SDK's own variables. */
export function readReconcilerSettings(env: NodeJS.ProcessEnv = process.env): SluiceSettings {
  return SluiceConfig.fromEnv({}, env);
}

/**
 * The reconciler from the SDK's settings: the SDK on the bounded DynamoDB client, its log lines
 * under the service name; with `SLUICE_CIRCUIT_VENDOR` set (the stack sets it), it reports that
 * vendor's circuit on each run too.
 */
export function wireReconciler(
  settings: SluiceSettings,
  service = process.env[WorkerEnv.serviceName] ?? 'sluice',
): ReconcilerHandler {
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
