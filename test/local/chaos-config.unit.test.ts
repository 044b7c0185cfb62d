import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { policiesOf } from '../../lib/config';
import { defaultConfigFile, loadConfigFile } from '../../local/cli/inputs';
import { parseCliOptions } from '../../local/cli/options';
import { prepareRun } from '../../local/run/prepare';

/**
 * `--chaos` shortens the Lambda timeout and validates the configuration again. It must do so
 * from the file as written: a parsed configuration (products as names, buckets derived from
 * `vendorLimit`, a fitted pool) is not an input, and re-parsing one refused the shipped file.
 */
describe('--chaos on a configuration', () => {
  it.each(['waitwhile', 'openai', 'sweeppea'] as const)(
    'the %s profile keeps its shares and buckets with the shorter timeout',
    (profile) => {
      const configFile = defaultConfigFile(profile);
      const config = loadConfigFile(configFile);
      const prepared = prepareRun(parseCliOptions(['--chaos', '--profile', profile]), config, configFile);
      expect(prepared.config.lambdaTimeoutSeconds).toBeLessThanOrEqual(config.lambdaTimeoutSeconds);
      expect(policiesOf(prepared.config)).toEqual(policiesOf(config));
      expect(prepared.config.buckets).toEqual(config.buckets);
      expect(prepared.config.products).toEqual(config.products);
    },
  );

  it('keeps weighted shares that a re-parse of the names would have made equal', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-chaos-'));
    const file = join(dir, 'shares.json');
    const shipped = JSON.parse(readFileSync(defaultConfigFile('waitwhile'), 'utf8')) as Record<
      string,
      unknown
    >;
    writeFileSync(
      file,
      JSON.stringify({
        ...shipped,
        lambdaTimeoutSeconds: 120,
        products: [
          { name: 'checkout', share: 0.7 },
          { name: 'support', share: 0.3 },
        ],
      }),
    );
    const config = loadConfigFile(file);
    const prepared = prepareRun(parseCliOptions(['--chaos', '--config', file]), config, file);
    expect(prepared.config.lambdaTimeoutSeconds).toBeLessThan(120);
    expect(policiesOf(prepared.config).map((p) => [p.name, p.share])).toEqual([
      ['checkout', 0.7],
      ['support', 0.3],
    ]);
  });
});
