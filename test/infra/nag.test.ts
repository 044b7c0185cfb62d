import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AppContext, buildSluiceApp } from '../../lib/sluice-app';
import { validConfig } from './fixtures';
import { testApp } from './synth';

/** Synthesises the app as `cdk synth` does (cdk-nag included); returns the error message, if any. */
function synthError(app: ReturnType<typeof testApp>): string | undefined {
  try {
    app.synth();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function appWithConfig(overrides: Parameters<typeof validConfig>[0] = {}): ReturnType<typeof testApp> {
  const app = testApp();
  const file = join(app.outdir, 'config.json');
  writeFileSync(file, JSON.stringify(validConfig(overrides)));
  app.node.setContext(AppContext.configFile, file);
  return app;
}

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the shipped stack', () => {
    const app = testApp({ context: { [AppContext.configFile]: 'config/sluice.config.json' } });
    const stack = buildSluiceApp(app);
    expect(stack.stackName).toBe('Sluice-dev');
    expect(synthError(app)).toBeUndefined();
  });

  it('finds nothing unacknowledged with an alarm topic in a production stage', () => {
    const app = appWithConfig({ stage: 'prod', alarmEmail: 'ops@example.com' });
    expect(buildSluiceApp(app).stackName).toBe('Sluice-prod');
    expect(synthError(app)).toBeUndefined();
  });

  it('fails synthesis on a finding nobody acknowledged', () => {
    const app = appWithConfig();
    const stack = buildSluiceApp(app);
    new sqs.Queue(stack, 'Careless', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    const findings = [...(synthError(app) ?? '').matchAll(/Acknowledge with '([^']+)'/g)].map(
      (match) => match[1],
    );
    expect(findings).toEqual([
      'AwsSolutions::AwsSolutions-SQS2',
      'AwsSolutions::AwsSolutions-SQS3',
      'AwsSolutions::AwsSolutions-SQS4',
    ]);
  });

  it('takes the stage from the command line context', () => {
    const app = appWithConfig();
    app.node.setContext(AppContext.stage, 'staging');
    expect(buildSluiceApp(app).stackName).toBe('Sluice-staging');
  });
});
