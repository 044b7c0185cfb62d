import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { seedAndAnswer } from '../seeding/seed-buckets';

/**
 * The bucket-seeding custom resource (the function is the resource's service token):
 * lambda/seeding/seed-buckets.ts. Every event is answered, a failure included.
 */
export async function handler(event: CloudFormationCustomResourceEvent): Promise<void> {
  await seedAndAnswer(event);
}
