import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfigFile, loadConfigFile, loadMessagesFile } from '../../local/cli/inputs';
import { DEFAULT_COUNTS, parseCliOptions } from '../../local/cli/options';

const HINT = '\nRun `npm start -- --help` for the options.';
const dir = mkdtempSync(join(tmpdir(), 'sluice-cli-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('npm start options', () => {
  it('defaults to the waitwhile demo workload with live progress', () => {
    expect(parseCliOptions([])).toEqual({
      messagesFile: undefined,
      vendorUrl: undefined,
      configFile: undefined,
      profile: 'waitwhile',
      count: DEFAULT_COUNTS.waitwhile,
      given: { profile: false, count: false },
      reportFile: undefined,
      serve: false,
      maxRunSeconds: 600,
      chaos: false,
      quiet: false,
      help: false,
    });
  });

  it('reads every option of the stable interface', () => {
    const argv = [
      '--messages',
      'm.jsonl',
      '--vendor-url',
      'http://127.0.0.1:9/v1',
      '--config',
      'c.json',
    ].concat(['--profile', 'openai', '--report', 'r.json', '--chaos', '--quiet', '--help']);
    expect(parseCliOptions(argv)).toEqual({
      messagesFile: 'm.jsonl',
      vendorUrl: 'http://127.0.0.1:9/v1',
      configFile: 'c.json',
      profile: 'openai',
      count: DEFAULT_COUNTS.openai,
      given: { profile: true, count: false },
      reportFile: 'r.json',
      serve: false,
      maxRunSeconds: 600,
      chaos: true,
      quiet: true,
      help: true,
    });
  });

  it('serves the work queue in the order it was sent with --queue-in-order, fairly across message groups without it', () => {
    expect(parseCliOptions(['--queue-in-order']).queueInOrder).toBe(true);
    expect(parseCliOptions([]).queueInOrder).toBeUndefined();
  });

  it('gives the simulator a latency with --vendor-latency-ms, a whole number of ms, never with --vendor-url', () => {
    expect(parseCliOptions(['--profile', 'openai', '--vendor-latency-ms', '1500']).vendorLatencyMs).toBe(
      1500,
    );
    expect(() => parseCliOptions(['--vendor-latency-ms', '1.5'])).toThrow(
      '--vendor-latency-ms must be a whole number from 0 to 60000 (got "1.5")',
    );
    expect(() =>
      parseCliOptions(['--vendor-latency-ms', '300', '--vendor-url', 'http://127.0.0.1:9']),
    ).toThrow('--vendor-latency-ms sets the simulator and cannot be combined with --vendor-url');
  });

  it('sizes the demo workload per profile unless --count says otherwise', () => {
    const counts = [
      ['--profile', 'sweeppea'],
      ['--profile', 'sweeppea', '--count', '7'],
    ].map((argv) => parseCliOptions(argv).count);
    expect(counts).toEqual([100, 7]);
  });

  it.each([
    [['--verbose'], `Unknown option --verbose.${HINT}`],
    [['extra'], `Unexpected argument "extra": every option starts with --.${HINT}`],
    [['--report'], `Option --report needs a value.${HINT}`],
    [
      ['--messages', '--quiet'],
      `Option --messages needs a value (it was followed by another option).${HINT}`,
    ],
    [['--chaos=yes'], `Option --chaos takes no value.${HINT}`],
  ])('rejects %j with "%s"', (argv, message) => {
    expect(() => parseCliOptions(argv)).toThrow(message);
  });

  it('reports every invalid value at once, naming the option, the rule and the value', () => {
    expect(() =>
      parseCliOptions([
        '--profile',
        'stripe',
        '--count',
        '0',
        '--messages',
        'm.jsonl',
        '--vendor-url',
        'ftp://x',
      ]),
    ).toThrow(
      'Invalid options:\n' +
        '  --profile must be one of waitwhile, openai, sweeppea (got "stripe")\n' +
        '  --count must be a whole number from 1 to 10000 (got "0")\n' +
        '  --count sizes the demo workload and cannot be combined with --messages\n' +
        `  --vendor-url must be an http:// or https:// URL (got "ftp://x")${HINT}`,
    );
  });

  it('reads a negative --count as its value and says what is wrong with it', () => {
    expect(() => parseCliOptions(['--count', '-5'])).toThrow(
      `Invalid options:\n  --count must be a whole number from 1 to 10000 (got "-5")${HINT}`,
    );
  });

  it('takes the time limit as an option, not with --serve', () => {
    expect(parseCliOptions(['--max-run-seconds', '30']).maxRunSeconds).toBe(30);
    expect(parseCliOptions(['--serve'])).toMatchObject({ serve: true, count: 0, maxRunSeconds: 600 });
    expect(() => parseCliOptions(['--max-run-seconds', '-1'])).toThrow(
      `Invalid options:\n  --max-run-seconds must be a whole number of seconds, at least 1 (got "-1")${HINT}`,
    );
    expect(() => parseCliOptions(['--serve', '--max-run-seconds', '5'])).toThrow(
      `Invalid options:\n  --max-run-seconds bounds a run that ends by itself; --serve runs until Ctrl-C${HINT}`,
    );
  });

  it('rejects a count that is not a whole number', () => {
    expect(() => parseCliOptions(['--count', '2.5'])).toThrow(
      `Invalid options:\n  --count must be a whole number from 1 to 10000 (got "2.5")${HINT}`,
    );
  });
});

describe('input files, read before any server starts', () => {
  it('names a missing messages file', () => {
    expect(() => loadMessagesFile(join(dir, 'nope.jsonl'))).toThrow(
      `--messages ${join(dir, 'nope.jsonl')}: cannot read the file (no such file)`,
    );
  });

  it('names the file and line of every malformed message', () => {
    const path = file(
      'bad.jsonl',
      [
        '{"id":"a","operation":"createVisit"}',
        '{"id":"b",',
        '',
        '[1,2]',
        '{"operation":"createVisit"}',
        '{"id":"a"}',
        '{"id":"c","operation":"nope"}',
      ].join('\n'),
    );
    const validate = (message: unknown) =>
      (message as { operation?: string }).operation === 'nope'
        ? 'operation: unknown operation "nope"'
        : undefined;
    expect(() => loadMessagesFile(path, validate)).toThrow(
      'Invalid messages file (5 problems):\n' +
        `  ${path}:2: not valid JSON (Expected double-quoted property name)\n` +
        `  ${path}:4: a message must be a JSON object\n` +
        `  ${path}:5: id must be a non-empty string\n` +
        `  ${path}:6: id "a" is already used on line 1\n` +
        `  ${path}:7: operation: unknown operation "nope"`,
    );
  });

  it('returns each message with its line', () => {
    const path = file('good.jsonl', '{"id":"a","x":1}\n\n{"id":"b"}\n');
    expect(loadMessagesFile(path)).toEqual([
      { line: 1, id: 'a', message: { id: 'a', x: 1 } },
      { line: 3, id: 'b', message: { id: 'b' } },
    ]);
  });

  it('refuses an empty messages file', () => {
    const path = file('empty.jsonl', '\n\n');
    expect(() => loadMessagesFile(path)).toThrow(`${path}: no messages (the file has no non-blank line)`);
  });

  it('names the line and column of a JSON syntax error in the configuration', () => {
    const path = file('broken.json', '{\n  "stage": "dev",\n  "batchSize": 5,\n}\n');
    expect(() => loadConfigFile(path)).toThrow(
      `${path}:4:1: not valid JSON (Expected double-quoted property name)`,
    );
  });

  it('names the file and field of every schema problem in the configuration', () => {
    const path = file(
      'invalid.json',
      JSON.stringify({ stage: 'dev', batchSize: 10_001, vendorSecretName: 's' }),
    );
    expect(() => loadConfigFile(path)).toThrow(
      `${path}: batchSize: must be an integer from 1 to 10000 (got 10001)`,
    );
  });

  it('reads every shipped profile configuration', () => {
    const names = (['waitwhile', 'openai', 'sweeppea'] as const).map((profile) => {
      return loadConfigFile(defaultConfigFile(profile)).vendor.name;
    });
    expect(names).toEqual(['waitwhile', 'openai', 'sweeppea']);
  });
});
