import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../../lambda/contract';
import { DynamoDbIdempotencyStore } from '../../lambda/idempotency/dynamo-store';
import { type OutcomeTopic, snsOutcomeTopic } from '../../lambda/outcomes/aws';
import { OutcomePublisher } from '../../lambda/outcomes/publisher';
import { createReconciler } from '../../lambda/reconciler/reconciler';
import { createDeadLetterRelay } from '../../lambda/relay/dead-letter-relay';
import { SluiceClient } from '../../lambda/sluice';
import { sqsWorkQueues } from '../../lambda/worker/adapters/queues';
import { powertoolsTelemetry } from '../../lambda/worker/adapters/telemetry';
import { readWorkerConfig } from '../../lambda/worker/config';
import { wireWorker } from '../../lambda/worker/wire';
import { policiesOf } from '../../lib/config';
import { workerEnvironment } from '../../lib/derived-settings';
import { seededBuckets } from '../../lib/product-shares';
import { CHAOS_OUTAGE, type CliOptions } from '../cli/options';
import { failFirstCompletedPublish, OutcomeCollector } from '../outcomes/collector';
import { startVendorSimulator } from '../simulator';
import { dynamoPurpose, Purpose } from './dynamodb-meter';
import { taggedSluice } from './purpose-tags';
import { LOCAL_REGION } from './stack';
import { countingTelemetry } from './telemetry-tally';
import { enqueueWorkload } from './wiring-enqueue';
import type { LocalVendor, RunDependencies, WiredHandlers, WireOptions } from './wiring-types';

/** The key the simulator expects; there is no local Secrets Manager to hold a real one. */
export const LOCAL_API_KEY = 'local-dev-key';
/** With --vendor-url, the key for that vendor (a sandbox key), read from the environment, never from a file or a flag. */
export const LOCAL_API_KEY_ENV = 'SLUICE_LOCAL_API_KEY';
/** Share of admitted calls the simulator answers with 500 under --chaos. */
export const CHAOS_SIMULATOR_ERROR_RATE = 0.03;

async function startVendor(options: CliOptions): Promise<LocalVendor> {
  if (options.vendorUrl) {
    const apiKey = process.env[LOCAL_API_KEY_ENV] || LOCAL_API_KEY;
    return { url: options.vendorUrl, apiKey, stop: async () => {} };
  }
  // Under --chaos the simulator also answers a few admitted calls with 500, after the call
  // reached it: the worker must retry with the idempotency key and never do the work twice;
  // and it goes down for a while, long enough to open the vendor circuit.
  const outage = options.outage ?? (options.chaos ? CHAOS_OUTAGE : undefined);
  const simulator = await startVendorSimulator({
    ...(outage ? { schedule: { down: outage } } : {}),
    profile: options.profile,
    apiKey: LOCAL_API_KEY,
    ...(options.vendorLatencyMs !== undefined ? { latencyMs: options.vendorLatencyMs } : {}),
    ...(options.vendorWindow ? { fixedWindow: options.vendorWindow } : {}),
    ...(options.chaos ? { faults: { errorRate: CHAOS_SIMULATOR_ERROR_RATE } } : {}),
  });
  return {
    url: simulator.url,
    apiKey: simulator.apiKey,
    successesById: () => simulator.stats().byIdempotencyKey,
    stop: () => simulator.stop(),
  };
}

/**
 * The worker wired as the deployed one is: its settings come from the same environment
 * `workerEnvironment()` gives the Lambda (read back by the worker's own `readWorkerConfig`),
 * with the vendor's base URL pointed at the local vendor. What differs is said here: the API
 * key is a fixed provider instead of Secrets Manager, vendor calls go through the
 * instrumented fetch, and telemetry is also counted for the report.
 */
async function wireHandlers(options: WireOptions): Promise<WiredHandlers> {
  const { stack, tally } = options;
  const config = { ...options.config, vendor: { ...options.config.vendor, baseUrl: options.vendorUrl } };
  const env = workerEnvironment(config, options.derived, {
    tableName: stack.tableName,
    queueUrl: stack.queueUrl,
    dlqUrl: stack.dlqUrl,
    secretArn: 'local:fixed-key-provider',
    region: LOCAL_REGION,
    dynamodbEndpointUrl: stack.dynamodbEndpoint,
    sqsEndpointUrl: stack.sqsEndpoint,
    ...(stack.outcomes
      ? {
          outcomeTopicArn: stack.outcomes.topicArn,
          outcomeBucket: stack.outcomes.bucket,
          outcomeEndpointUrl: stack.sqsEndpoint,
        }
      : {}),
  });
  const workerConfig = readWorkerConfig(env);
  // Outcomes: counted as published, read back from each product's queue; --chaos fails one publish.
  const collector = stack.outcomes ? new OutcomeCollector(stack.sqs, stack.outcomes) : undefined;
  const outcomeTopic = (topic: OutcomeTopic): OutcomeTopic => {
    const counted = collector ? collector.counting(topic) : topic;
    return options.chaos
      ? failFirstCompletedPublish(counted, () => tally.chaosInjected('outcome-publish-failure'))
      : counted;
  };
  const serviceName = workerConfig.vendor.name;
  const logger = new Logger({ serviceName, logLevel: workerConfig.sluice.logLevel });
  const metrics = () => new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  const handler = wireWorker(workerConfig, {
    clients: stack.clients,
    apiKey: async () => options.apiKey,
    fetch: options.fetch,
    telemetry: countingTelemetry(powertoolsTelemetry(logger, metrics()), tally),
    outcomeTopic,
    sluice: taggedSluice,
  });
  const relayTelemetry = powertoolsTelemetry(logger, metrics());
  const relay = createDeadLetterRelay({
    queues: sqsWorkQueues(stack.sqs, stack.dlqUrl, stack.dlqUrl),
    outcomes: new OutcomePublisher(
      new DynamoDbIdempotencyStore(stack.dynamodb, stack.tableName, () => 'relay'),
      relayTelemetry,
      stack.outcomes
        ? { topic: outcomeTopic(snsOutcomeTopic(stack.clients.sns, stack.outcomes.topicArn)) }
        : undefined,
    ),
    products: workerConfig.products,
    telemetry: relayTelemetry,
    maxReceiveCount: workerConfig.maxReceiveCount,
  });
  // The reconciler Lambda has its own SDK client; seeding and the progress display read
  // through an unmetered one, so the report's DynamoDB figures are the handlers' alone.
  const reconciler = createReconciler(
    new SluiceClient({ settings: workerConfig.sluice, dynamodb: stack.dynamodb, logger }),
    metrics(),
  );
  const admin = new SluiceClient({ settings: workerConfig.sluice, dynamodb: stack.adminDynamodb });

  return {
    handler,
    seedBuckets: () => admin.upsertBuckets(seededBuckets(config.buckets, policiesOf(config))),
    reconcile: async () => (await dynamoPurpose.run(Purpose.reconciler, () => reconciler())).restored,
    snapshots: (dimensions) => Promise.all(dimensions.map((dimension) => admin.snapshot(dimension))),
    enqueue: (messages) => enqueueWorkload(stack.sqs, stack.queueUrl, messages),
    relay: (event) => relay(event),
    ...(collector ? { outcomes: collector } : {}),
  };
}

export const realDependencies: RunDependencies = { startVendor, wireHandlers };
