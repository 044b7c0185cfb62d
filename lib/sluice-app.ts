import { Annotations, type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadStackConfig } from './config';
import { SluiceStack } from './constructs/sluice-stack';

/** Context keys read by the app (cdk.json or `-c key=value`). */
export const AppContext = {
  configFile: 'sluice:configFile',
  stage: 'sluice:stage',
} as const;

export const DEFAULT_CONFIG_FILE = 'config/sluice.config.json';

/**
 * Builds the app as `cdk synth` does: the configuration file from context (validated, the
 * stage overridable), one stack named after the stage, and cdk-nag's AwsSolutions checks,
 * which fail synthesis on any finding without a written acknowledgement.
 */
export function buildSluiceApp(app: App): SluiceStack {
  const file: unknown = app.node.tryGetContext(AppContext.configFile);
  const stage: unknown = app.node.tryGetContext(AppContext.stage);
  const config = loadStackConfig(
    typeof file === 'string' ? file : DEFAULT_CONFIG_FILE,
    typeof stage === 'string' ? { stage } : {},
  );
  const stack = new SluiceStack(app, `Sluice-${config.stage}`, {
    config,
    description: `Sluice cooperative rate limiter for ${config.vendor.name} (${config.stage})`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  // What Sluice derived from each limit given in the vendor's words, one line per bucket.
  for (const line of config.bucketDerivations ?? []) Annotations.of(stack).addInfo(`bucket ${line}`);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
