import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ProductNameSchema } from 'sluice-aws/producer';
import { SecondProductStack } from '../lib/second-product-stack';

/**
 * Settings from cdk.json's context (or `-c key=value`); every problem reported at once. The
 * product name must be one the worker routes outcomes by (it becomes the subscription's filter).
 */
function context(app: App, keys: readonly string[]): Record<string, string> {
  const values = Object.fromEntries(keys.map((key) => [key, app.node.tryGetContext(key) as unknown]));
  const problems = keys
    .filter((key) => typeof values[key] !== 'string' || values[key] === '')
    .map((key) => `${key}: is missing`);
  const product = values['second-product:product'];
  if (typeof product === 'string' && product !== '' && !ProductNameSchema.safeParse(product).success) {
    problems.push(
      `second-product:product: "${product}" must be 1-32 lowercase letters, digits or dashes, starting with a letter`,
    );
  }
  if (problems.length > 0) throw new Error(`Invalid context (see cdk.json): ${problems.join('; ')}`);
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
