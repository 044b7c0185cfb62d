import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SecondProductStack } from '../lib/second-product-stack';

/** Settings from cdk.json's context (or `-c key=value`); every missing one reported at once. */
function context(app: App, keys: readonly string[]): Record<string, string> {
  const values = Object.fromEntries(keys.map((key) => [key, app.node.tryGetContext(key) as unknown]));
  const missing = keys.filter((key) => typeof values[key] !== 'string' || values[key] === '');
  if (missing.length > 0) throw new Error(`Missing context: ${missing.join(', ')} (see cdk.json)`);
  return values as Record<string, string>;
}

const app = new App();
const settings = context(app, [
  'sluice:stage',
  'second-product:product',
  'second-product:vendor',
  'second-product:vendorBaseUrl',
  'second-product:vendorSecretName',
]);
new SecondProductStack(app, `SecondProduct-${settings['sluice:stage']}`, {
  sluiceStage: settings['sluice:stage']!,
  product: settings['second-product:product']!,
  vendor: settings['second-product:vendor']!,
  vendorBaseUrl: settings['second-product:vendorBaseUrl']!,
  vendorSecretName: settings['second-product:vendorSecretName']!,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
// cdk-nag's AwsSolutions checks fail the synth on any finding without a written acknowledgement.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
