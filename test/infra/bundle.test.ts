import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseStackConfig } from '../../lib/config';
import { SluiceStack } from '../../lib/constructs/sluice-stack';
import { validConfig } from './fixtures';
import { testApp } from './synth';

/** Generous: the SDK v3 clients, tree-shaken and minified, weigh a few hundred KB. */
const MAX_BUNDLE_BYTES = 1.5 * 1024 * 1024;

describe('bundling with local esbuild', () => {
  it('bundles every handler without Docker, the worker well under 1.5 MB', () => {
    const app = testApp({ bundle: true, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new SluiceStack(app, 'Sluice-bundle', { config: parseStackConfig(validConfig()) });
    const assembly = app.synth();
    const template = assembly.getStackByName(stack.stackName).template as {
      Resources: Record<string, { Type: string; Metadata?: Record<string, string> }>;
    };
    const bundles = Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
      .map(([id, resource]) => ({
        name: id.replace(/[0-9A-F]{8}$/, ''),
        file: join(assembly.directory, resource.Metadata?.['aws:asset:path'] ?? '', 'index.js'),
      }));
    const sizes = Object.fromEntries(bundles.map(({ name, file }) => [name, statSync(file).size]));
    // Recorded for the README and for reviewers comparing bundle sizes over time.
    console.log(`bundle sizes (bytes): ${JSON.stringify(sizes)}`);
    expect(Object.keys(sizes).sort()).toEqual([
      'ReconcilerFunction',
      'WorkerDeadLetterRelayFunction',
      'WorkerFunction',
      'WorkerSeedingSeederFunction',
    ]);
    expect(sizes.WorkerFunction).toBeLessThan(MAX_BUNDLE_BYTES);
    // Each bundle loads in a fresh Node.js and exports the handler Lambda will call.
    const exported = bundles.map(
      ({ file }) =>
        spawnSync(
          process.execPath,
          ['-e', `process.stdout.write(typeof require(${JSON.stringify(file)}).handler)`],
          {
            encoding: 'utf8',
          },
        ).stdout,
    );
    expect(exported).toEqual(['function', 'function', 'function', 'function']);
    // Four esbuild runs: generous on a busy CI machine (this is not a speed assertion).
  }, 180_000);
});
