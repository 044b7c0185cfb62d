import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { tableDefinition } from '../derived-settings';
import { grantBucketItems } from './permissions';
import { SluiceParameterNames } from './stage-parameters';

export interface BucketTableProps {
  /** A `dev` stage is disposable: no deletion protection, destroyed with the stack. */
  readonly stage: string;
  /**
   * Publish the table's name and ARN as SSM parameters under `/sluice/<stage>/table/`, so
   * products in other apps find it with `BucketTable.fromStage`.
   * @default true
   */
  readonly publish?: boolean;
}

/** What a product needs of the bucket table, whether this app owns it or imports it. */
export interface IBucketTable {
  readonly table: dynamodb.ITable;
  /** For SDK callers' SLUICE_TABLE_NAME. */
  readonly tableName: string;
  /**
   * Exactly the DynamoDB actions an SDK caller (acquire, slot, release, penalize) needs, on bucket
   * items only (`dynamodb:LeadingKeys`): never idempotency records, the circuit or a vendor item's
   * definitions as a whole.
   */
  grantAcquire(grantee: iam.IGrantable): iam.Grant;
}

export interface BucketTableFromStageProps {
  /** The stage of the Sluice stack that owns the table, e.g. `dev`. */
  readonly stage: string;
}

/** Stages whose data may be thrown away with the stack. */
export const DISPOSABLE_STAGES: readonly string[] = ['dev'];

export function removalPolicyFor(stage: string): RemovalPolicy {
  return DISPOSABLE_STAGES.includes(stage) ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

function grantAcquireOn(table: dynamodb.ITable, grantee: iam.IGrantable): iam.Grant {
  return grantBucketItems(table, grantee);
}

/**
 * The one table holding every bucket and lease. On demand, because the write rate follows
 * the callers, not a provisioned guess. TTL only garbage-collects records long after the
 * reconciler handled them (TTL deletes days late and restores nothing). Point-in-time
 * recovery always; deletion protection and RETAIN outside disposable stages.
 */
export class BucketTable extends Construct implements IBucketTable {
  readonly table: dynamodb.Table;
  readonly tableName: string;

  /**
   * The table of the Sluice stack deployed as `stage`, found through its SSM parameters
   * (resolved by CloudFormation at deploy time), for a product in another CDK app.
   */
  static fromStage(scope: Construct, id: string, props: BucketTableFromStageProps): IBucketTable {
    return new ImportedBucketTable(scope, id, props.stage);
  }

  constructor(scope: Construct, id: string, props: BucketTableProps) {
    super(scope, id);
    const disposable = DISPOSABLE_STAGES.includes(props.stage);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: tableDefinition.partitionKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: tableDefinition.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: !disposable,
      removalPolicy: removalPolicyFor(props.stage),
    });
    // Sparse: only bucket items carry the key, so the reconciler never reads the idempotency
    // records. Keys only: nothing a grant changes is projected, so a grant writes nothing to it.
    this.table.addGlobalSecondaryIndex({
      indexName: tableDefinition.sweepIndex.name,
      partitionKey: { name: tableDefinition.sweepIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    this.tableName = this.table.tableName;
    if (props.publish ?? true) {
      new ssm.StringParameter(this, 'NameParameter', {
        parameterName: SluiceParameterNames.tableName(props.stage),
        stringValue: this.table.tableName,
        description: 'Sluice bucket table name (SLUICE_TABLE_NAME for SDK callers)',
      });
      new ssm.StringParameter(this, 'ArnParameter', {
        parameterName: SluiceParameterNames.tableArn(props.stage),
        stringValue: this.table.tableArn,
        description: 'Sluice bucket table ARN (for grants)',
      });
    }
  }

  grantAcquire(grantee: iam.IGrantable): iam.Grant {
    return grantAcquireOn(this.table, grantee);
  }
}

class ImportedBucketTable extends Construct implements IBucketTable {
  readonly table: dynamodb.ITable;
  readonly tableName: string;

  constructor(scope: Construct, id: string, stage: string) {
    super(scope, id);
    const tableArn = ssm.StringParameter.valueForStringParameter(this, SluiceParameterNames.tableArn(stage));
    this.table = dynamodb.Table.fromTableAttributes(this, 'Table', { tableArn });
    // The stack publishes the name as well, so callers need not split the ARN.
    this.tableName = ssm.StringParameter.valueForStringParameter(this, SluiceParameterNames.tableName(stage));
  }

  grantAcquire(grantee: iam.IGrantable): iam.Grant {
    return grantAcquireOn(this.table, grantee);
  }
}
