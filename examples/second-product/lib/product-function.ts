import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SLUICE_RUNTIME } from 'sluice-aws/constructs';

/** The example's handlers, in src/ (this file runs compiled, from dist/lib). */
const SOURCE_DIR = path.join(__dirname, '..', '..', 'src');

export interface ProductFunctionProps {
  /** A file in src/ without `.ts`; the export is `handler`. */
  readonly source: string;
  readonly environment: Record<string, string>;
}

/**
 * One of the product's own Lambdas: bundled by the app's esbuild, its own log group and a role
 * that may only write there; the grants from sluice-aws/constructs add the rest.
 */
export class ProductFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ProductFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const logGroup = this.logGroup;
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(SOURCE_DIR, `${props.source}.ts`),
      handler: 'handler',
      runtime: SLUICE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(20),
      role: this.role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        bundleAwsSDK: true,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        format: OutputFormat.CJS,
        mainFields: ['module', 'main'],
      },
    });
  }
}
