import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { OutcomeAttr } from '../contract';
import type { BodyStore } from './claim-check';

/** Where outcome events are published: the SNS adapter below, or anything with the same shape. */
export interface OutcomeTopic {
  /** Publishes one event; `product` and `outcome` become message attributes (subscriptions filter on them). */
  publish(json: string, product: string, outcome: string): Promise<void>;
}

export function snsOutcomeTopic(sns: SNSClient, topicArn: string): OutcomeTopic {
  return {
    async publish(json, product, outcome) {
      await sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: json,
          MessageAttributes: {
            [OutcomeAttr.product]: { DataType: 'String', StringValue: product },
            [OutcomeAttr.outcome]: { DataType: 'String', StringValue: outcome },
          },
        }),
      );
    },
  };
}

export function s3BodyStore(s3: S3Client, bucket: string): BodyStore {
  return {
    bucket,
    async put(key, bytes, contentType) {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentType }),
      );
    },
  };
}
