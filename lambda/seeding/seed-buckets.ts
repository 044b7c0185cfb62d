import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse } from 'aws-lambda';
import { SeedBucketsProperty } from '../contract';
import { type BucketDefinition, SluiceClient, SluiceConfig, SluiceError } from '../sluice';
import { createAwsClients } from '../worker/adapters/aws-clients';

/**
 * The bucket-seeding custom resource: on Create and Update it upserts the configured bucket
 * definitions through the SDK (live token state is kept); on Delete it does nothing, so
 * removing the resource never empties a table that other stacks may still use.
 *
 * The function is the resource's service token (no Provider framework), so it answers
 * CloudFormation itself. Every path answers: a missing answer leaves the stack waiting an hour.
 */

export type UpsertBuckets = (definitions: readonly BucketDefinition[]) => Promise<void>;

export async function seedBuckets(
  event: CloudFormationCustomResourceEvent,
  upsert: () => Promise<UpsertBuckets>,
): Promise<CloudFormationCustomResourceResponse> {
  const physicalResourceId =
    event.RequestType === 'Create' ? `sluice-buckets-${event.LogicalResourceId}` : event.PhysicalResourceId;
  const answer = {
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  };
  if (event.RequestType === 'Delete') {
    return { ...answer, PhysicalResourceId: physicalResourceId, Status: 'SUCCESS' };
  }
  try {
    const definitions = parseDefinitions(event.ResourceProperties[SeedBucketsProperty.bucketsJson]);
    await (await upsert())(definitions);
    return {
      ...answer,
      PhysicalResourceId: physicalResourceId,
      Status: 'SUCCESS',
      Data: { Buckets: String(definitions.length) },
    };
  } catch (error) {
    return {
      ...answer,
      PhysicalResourceId: physicalResourceId,
      Status: 'FAILED',
      Reason: `Seeding buckets failed: ${(error as Error).message}`.slice(0, 1_000),
    };
  }
}

function parseDefinitions(json: unknown): BucketDefinition[] {
  if (typeof json !== 'string') {
    throw new SluiceError(
      `property ${SeedBucketsProperty.bucketsJson} must be a JSON string (got ${typeof json})`,
    );
  }
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) {
    throw new SluiceError(
      `property ${SeedBucketsProperty.bucketsJson} must be a JSON list of bucket definitions`,
    );
  }
  return value as BucketDefinition[];
}

/** PUTs the answer to CloudFormation's pre-signed S3 URL (an empty content type, as signed). */
export async function sendResponse(
  url: string,
  response: CloudFormationCustomResourceResponse,
): Promise<void> {
  const body = JSON.stringify(response);
  const answer = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!answer.ok) throw new SluiceError(`CloudFormation response rejected: HTTP ${answer.status}`);
}

/**
 * One custom-resource event, answered: the client is built inside seedBuckets' try, so a bad
 * environment is reported as FAILED. It has the runtime's bounded timeouts: a silent DynamoDB
 * endpoint fails the seeding in seconds (and CloudFormation gets its answer) instead of
 * holding the function to its timeout.
 */
export async function seedAndAnswer(event: CloudFormationCustomResourceEvent): Promise<void> {
  const response = await seedBuckets(event, async () => {
    const settings = SluiceConfig.fromEnv();
    const { dynamodb } = createAwsClients({
      region: settings.region,
      dynamodbEndpoint: settings.endpointUrl,
    });
    const client = new SluiceClient({ settings, dynamodb });
    return async (definitions) => {
      try {
        await client.upsertBuckets([...definitions]);
      } finally {
        dynamodb.destroy();
      }
    };
  });
  await sendResponse(event.ResponseURL, response);
}
