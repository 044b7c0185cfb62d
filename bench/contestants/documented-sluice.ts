import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createBaselineTable, DocumentedSluice } from '../baseline/documented-sluice';
import { attachMeter } from '../meter';
import type { Contestant } from './contestant';
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
          async acquire(costs) {
            const result = await sluice.acquire(costs);
            return result.outcome === 'Granted'
              ? { granted: true }
              : { granted: false, waitSeconds: result.waitSeconds };
          },
        };
      },
    };
  },
};
