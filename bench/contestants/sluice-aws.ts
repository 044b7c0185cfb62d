import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createBucketTable, SluiceClient, SluiceConfig, type SluiceLogger } from '../../lambda/sluice';
import { attachMeter } from '../../local/aws/dynamodb-meter';
import { attemptOf, type Contestant } from './contestant';
import { benchClientConfig } from './dynamodb-config';

/**
 * Log lines would go to stdout (and break `--json`); the other contestants log nothing either,
 * so the SDK runs with a silent logger: the bench compares DynamoDB work, not logging.
 */
const silent: SluiceLogger = { debug() {}, info() {}, warn() {}, error() {} };

export const sluiceAws: Contestant = {
  name: 'sluiceAws',
  async prepare(endpoint, tableName, limits) {
    const settings = SluiceConfig.fromEnv({ tableName, endpointUrl: endpoint, logLevel: 'ERROR' }, {});
    const admin = new DynamoDBClient(benchClientConfig(endpoint));
    await createBucketTable(admin, tableName);
    await new SluiceClient({ settings, dynamodb: admin, logger: silent }).upsertBuckets(limits);
    return {
      newClient(usage) {
        const dynamodb = new DynamoDBClient(benchClientConfig(endpoint));
        attachMeter(dynamodb, usage);
        const sluice = new SluiceClient({ settings, dynamodb, logger: silent });
        return {
          acquire: async (costs) => attemptOf(await sluice.acquire(costs)),
          close: async () => {
            await sluice.returnSlices();
          },
        };
      },
    };
  },
};
