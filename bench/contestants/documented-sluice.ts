import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { attachMeter } from '../../local/aws/dynamodb-meter';
import { createBaselineTable, DocumentedSluice } from '../baseline/documented-sluice';
import { attemptOf, type Contestant } from './contestant';
import { benchClientConfig } from './dynamodb-config';

export const documentedSluice: Contestant = {
  name: 'documentedSluice',
  async prepare(endpoint, tableName, limits) {
    const admin = new DynamoDBClient(benchClientConfig(endpoint));
    await createBaselineTable(admin, tableName);
    const seeder = new DocumentedSluice({ dynamodb: admin, tableName });
    for (const limit of limits) await seeder.putBucket(limit);
    return {
      newClient(usage) {
        const dynamodb = new DynamoDBClient(benchClientConfig(endpoint));
        attachMeter(dynamodb, usage);
        const sluice = new DocumentedSluice({ dynamodb, tableName });
        return {
          acquire: async (costs) => attemptOf(await sluice.acquire(costs)),
        };
      },
    };
  },
};
