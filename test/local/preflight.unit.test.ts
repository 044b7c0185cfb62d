import { defaultConfigFile, loadConfigFile } from '../../local/cli/inputs';
import { parseCliOptions } from '../../local/cli/options';
import { checkReportPath, followConfiguration } from '../../local/cli/preflight';

const openaiFile = 'config/local-openai.json';
const openai = loadConfigFile(openaiFile);

describe('the simulator profile follows the configuration', () => {
  it('takes the profile and the demo size from the configuration when --profile is not given', () => {
    const options = followConfiguration(parseCliOptions(['--config', openaiFile]), openai, openaiFile);
    expect(options).toMatchObject({ profile: 'openai', count: 250 });
    const sweeppeaFile = defaultConfigFile('sweeppea');
    const sweeppea = followConfiguration(
      parseCliOptions(['--config', sweeppeaFile]),
      loadConfigFile(sweeppeaFile),
      sweeppeaFile,
    );
    expect(sweeppea).toMatchObject({ profile: 'sweeppea', count: 100 });
  });

  it('keeps a --count the user gave', () => {
    const options = followConfiguration(
      parseCliOptions(['--config', openaiFile, '--count', '30']),
      openai,
      openaiFile,
    );
    expect(options).toMatchObject({ profile: 'openai', count: 30 });
  });

  it('refuses a vendor the simulator does not emulate unless --vendor-url names one', () => {
    const stripe = { ...openai, vendor: { ...openai.vendor, name: 'stripe' } };
    expect(() => followConfiguration(parseCliOptions(['--config', 'x.json']), stripe, 'x.json')).toThrow(
      'Cannot run:\n  x.json configures vendor "stripe", which the simulator does not emulate (profiles: waitwhile, openai, sweeppea): give --vendor-url, or a configuration for one of the profiles',
    );
    const options = parseCliOptions(['--config', 'x.json', '--vendor-url', 'http://127.0.0.1:9']);
    expect(followConfiguration(options, stripe, 'x.json').vendorUrl).toBe('http://127.0.0.1:9');
  });

  it('refuses a --profile of another vendor wherever the profile is used', () => {
    const mismatch = (argv: string[]) => () => followConfiguration(parseCliOptions(argv), openai, openaiFile);
    expect(mismatch(['--profile', 'sweeppea'])).toThrow(
      `Cannot run:\n  --profile sweeppea starts the simulator as sweeppea, but ${openaiFile} configures vendor "openai"`,
    );
    expect(mismatch(['--profile', 'sweeppea', '--vendor-url', 'http://127.0.0.1:9'])).toThrow(
      `Cannot run:\n  --profile sweeppea shapes the demo workload as sweeppea, but ${openaiFile} configures vendor "openai"`,
    );
    // With --vendor-url and --messages the profile is not used at all.
    expect(
      mismatch(['--profile', 'sweeppea', '--vendor-url', 'http://127.0.0.1:9', '--messages', 'm.jsonl']),
    ).not.toThrow();
  });

  it('refuses an operation the profile does not serve (the simulator would answer 404 to each message)', () => {
    const operations = {
      ...openai.vendor.operations,
      embeddings: { ...openai.vendor.operations.chatCompletion!, path: '/v1/embeddings' },
    };
    const config = { ...openai, vendor: { ...openai.vendor, operations } };
    expect(() => followConfiguration(parseCliOptions(['--config', 'x.json']), config, 'x.json')).toThrow(
      'Cannot run:\n  x.json: vendor.operations.embeddings (POST /v1/embeddings) is not served by the openai simulator: it would answer 404 for every message',
    );
  });
});

describe('the --report path', () => {
  it('is accepted in an existing folder and refused in a missing one or when it is a folder', () => {
    expect(() => checkReportPath(undefined)).not.toThrow();
    expect(() => checkReportPath('r.json')).not.toThrow();
    expect(() => checkReportPath('/nonexistent/r.json')).toThrow(
      '--report /nonexistent/r.json: cannot write the report (the folder /nonexistent does not exist)',
    );
    expect(() => checkReportPath('test')).toThrow(
      /^--report test: cannot write the report \(.+\/test is a folder\)$/,
    );
  });
});
