import { type Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SluiceEnv } from '../../lambda/contract';
import { handlerCode, type SluiceHandlerName } from './handler-code';

/** The newest Node.js that aws-cdk-lib offers (NODEJS_LATEST lags behind it). */
export const SLUICE_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface SluiceFunctionProps {
  /** The handler in lambda/handlers, e.g. `worker` for worker.ts; the export is `handler`. */
  readonly handler: SluiceHandlerName;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** @default 256 */
  readonly memorySizeMb?: number;
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** @default lambda.RecursiveLoop.TERMINATE */
  readonly recursiveLoop?: lambda.RecursiveLoop;
  readonly logRetentionDays: logs.RetentionDays;
  /** Log groups are kept with the stack unless it is disposable. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A Lambda function as every Sluice handler needs it: bundled by esbuild with the AWS SDK v3
 * inside (tree-shaken, so cold starts load only the commands used) — at synth from the source
 * tree, or already when the package was built (handler-code.ts) — arm64, its
 * own log group with retention, and its own role that may write only to that log group
 * (no AWS-managed policy). Callers add exactly the data-plane permissions they need.
 */
export class SluiceFunction extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SluiceFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdToken(this.logGroup)}.Arn>]`,
      reason: 'The log group ARN ends in :* to cover the log streams Lambda creates with generated names.',
    });
    const common = {
      runtime: SLUICE_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySizeMb ?? 256,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // With JSON logs Lambda filters application logs by its own level (INFO unless set), below
      // Powertools: the configured logLevel (SLUICE_LOG_LEVEL) is Lambda's level too, so DEBUG shows.
      applicationLogLevelV2: applicationLogLevel(props.environment[SluiceEnv.logLevel]),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      recursiveLoop: props.recursiveLoop,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
    };
    const code = handlerCode(props.handler);
    this.function =
      code.kind === 'prebundled'
        ? new lambda.Function(this, 'Function', {
            ...common,
            code: lambda.Code.fromAsset(code.directory),
            handler: 'index.handler',
          })
        : new NodejsFunction(this, 'Function', {
            ...common,
            entry: code.entry,
            handler: 'handler',
            // The same options as the package build's pre-bundling (scripts/bundle-handlers.ts).
            bundling: {
              forceDockerBundling: false,
              bundleAwsSDK: true,
              minify: true,
              sourceMap: true,
              sourcesContent: false,
              format: OutputFormat.CJS,
              target: 'node24',
              // The SDK's ES module builds tree-shake far better than its CommonJS ones (about 20% smaller).
              mainFields: ['module', 'main'],
            },
          });
  }
}

/** Lambda's application log level for the handler's configured level; Lambda's default (INFO) if none. */
function applicationLogLevel(level: string | undefined): lambda.ApplicationLogLevel | undefined {
  const levels: Record<string, lambda.ApplicationLogLevel> = {
    DEBUG: lambda.ApplicationLogLevel.DEBUG,
    INFO: lambda.ApplicationLogLevel.INFO,
    WARN: lambda.ApplicationLogLevel.WARN,
    ERROR: lambda.ApplicationLogLevel.ERROR,
  };
  return level === undefined ? undefined : levels[level];
}

/** The logical id cdk-nag prints for a resource's ARN attribute in IAM5 finding ids. */
function logicalIdToken(logGroup: logs.LogGroup): string {
  return Stack.of(logGroup).getLogicalId(logGroup.node.defaultChild as logs.CfnLogGroup);
}
