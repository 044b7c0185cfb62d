import { CustomResource, Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { SeedBucketsProperty } from '../../lambda/contract';

import { policiesOf, type StackConfig } from '../config';
import { type DerivedSettings, reconcilerEnvironment, tableDefinition } from '../derived-settings';
import { seededBuckets } from '../product-shares';
import { removalPolicyFor } from './bucket-table';
import { SEEDING_TABLE_ACTIONS, tableStatement } from './permissions';
import { SluiceFunction } from './sluice-function';

export interface BucketSeedingProps {
  readonly table: dynamodb.ITable;
  /** `buckets` are seeded; the rest sets the seeding function's SDK environment. */
  readonly config: StackConfig;
  readonly derived: DerivedSettings;
}

/**
 * Upserts the configured bucket definitions at deploy time through the SDK, keeping live
 * token state. The definitions are a property of the resource, so a configuration change
 * is an Update that seeds again; Delete leaves the table alone.
 */
export class BucketSeeding extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: BucketSeedingProps) {
    super(scope, id);
    const seeder = new SluiceFunction(this, 'Seeder', {
      handler: 'seed-buckets',
      timeout: Duration.seconds(60),
      environment: reconcilerEnvironment(props.config, props.derived, { tableName: props.table.tableName }),
      logRetentionDays: props.config.logRetentionDays,
      removalPolicy: removalPolicyFor(props.config.stage),
    });
    seeder.role.addToPolicy(tableStatement(props.table, SEEDING_TABLE_ACTIONS));
    // The function answers CloudFormation itself: no Provider framework (and no managed policy).
    this.resource = new CustomResource(this, 'Buckets', {
      serviceToken: seeder.function.functionArn,
      resourceType: 'Custom::SluiceBuckets',
      // Every time bucket carries the products' shares (docs/design.md, "Fair shares").
      properties: {
        [SeedBucketsProperty.bucketsJson]: JSON.stringify(
          seededBuckets(props.config.buckets, policiesOf(props.config)),
        ),
        [SeedBucketsProperty.sweepIndex]: tableDefinition.sweepIndex.name,
      },
    });
    // The role's policy must exist before CloudFormation asks the function to seed.
    this.resource.node.addDependency(seeder.role);
  }
}
