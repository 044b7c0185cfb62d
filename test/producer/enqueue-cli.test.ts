import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  HELP,
  isLocalEndpoint,
  main,
  parseArguments,
  readMessages,
  regionFor,
} from '../../local/cli/enqueue';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

function capture() {
  let text = '';
  return {
    write: (chunk: string) => {
      text += chunk;
    },
    text: () => text,
  };
}

describe('the enqueue CLI', () => {
  it('names every argument problem and the usage', () => {
    expect(() => parseArguments(['--region'])).toThrow(
      '--region needs a value; give exactly one FILE.jsonl (got 0); --queue-url is required\nusage: npm run enqueue -- FILE.jsonl --queue-url URL [--endpoint-url URL] [--region REGION]',
    );
    expect(() => parseArguments(['a.jsonl', '--queue', 'x'])).toThrow(
      /^unknown option --queue; give exactly one FILE.jsonl \(got 2\); --queue-url is required\n/,
    );
  });

  it('takes the region from the flag, else from an AWS queue URL', () => {
    expect(regionFor({ file: 'f', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/work' })).toBe(
      'eu-west-1',
    );
    expect(
      regionFor({ file: 'f', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/w', region: 'us-east-2' }),
    ).toBe('us-east-2');
    expect(regionFor({ file: 'f', queueUrl: 'http://127.0.0.1:4566/000000000000/work' })).toBeUndefined();
  });

  it("finds the local stack's region in its queue URL, and uses us-east-1 for a local endpoint", () => {
    const queueUrl = 'http://sqs.us-east-1.127.0.0.1:40111/000000000000/sluice-local-work';
    expect(regionFor({ file: 'f', queueUrl })).toBe('us-east-1');
    expect(
      regionFor({ file: 'f', queueUrl: 'http://127.0.0.1:1/0/w', endpointUrl: 'http://127.0.0.1:40111' }),
    ).toBe('us-east-1');
    expect(
      regionFor({ file: 'f', queueUrl: 'https://example.com/q', endpointUrl: 'https://sqs.example.com' }),
    ).toBe(undefined);
    expect(
      ['http://localhost:1', 'http://127.0.0.1:2', 'https://sqs.example.com'].map(isLocalEndpoint),
    ).toEqual([true, true, false]);
  });

  it('prints its help with --help and exits 0', async () => {
    const out = capture();
    expect(await main(['--help'], out as never)).toBe(0);
    expect(out.text()).toBe(HELP);
    expect(HELP).toContain('--queue-url URL');
  });

  it('says a file is missing in words, with exit code 2', async () => {
    const err = capture();
    const missing = join(tmpdir(), 'no-such-dir', 'work.jsonl');
    expect(
      await main([missing, '--queue-url', 'http://127.0.0.1:1/0/q'], capture() as never, err as never),
    ).toBe(2);
    expect(err.text()).toBe(`${missing}: cannot read the messages file (no such file)\n`);
  });

  it('reports duplicate ids, an oversized message and an empty file', () => {
    const big = JSON.stringify({ id: 'big', operation: 'x', body: { text: 'x'.repeat(1_000_000) } });
    expect(
      readMessages('w.jsonl', `{"id":"a","operation":"x"}\n{"id":"a","operation":"y"}\n${big}`).problems,
    ).toEqual([
      'w.jsonl:2: id "a" is already used on line 1',
      expect.stringMatching(
        /^w\.jsonl:3: \(message\): is 10000\d\d bytes as JSON, over the 262016 bytes SQS takes/,
      ),
    ]);
    expect(readMessages('empty.jsonl', '\n  \n').problems).toEqual([
      'empty.jsonl: no messages (every line is blank)',
    ]);
  });

  it('fails at once, with a hint, when the queue does not exist', async () => {
    const endpoint = localEndpoints().sqs;
    const dir = mkdtempSync(join(tmpdir(), 'enqueue-'));
    const file = join(dir, 'one.jsonl');
    writeFileSync(file, '{"id":"a","operation":"x"}\n');
    const err = capture();
    const queueUrl = `${endpoint}/000000000000/${uniqueName('missing')}`;
    expect(
      await main(
        [file, '--queue-url', queueUrl, '--endpoint-url', endpoint],
        capture() as never,
        err as never,
      ),
    ).toBe(1);
    expect(err.text()).toMatch(
      /^Could not enqueue 1 of 1 message\(s\) after a failure a retry cannot fix: a: QueueDoesNotExist: .+\n {2}No queue at .+: copy the command `npm start -- --serve` prints/,
    );
  });

  it('checks every line first and names file:line and the problem', () => {
    const text = [
      '{"id":"a","operation":"x"}',
      '',
      '{"id":"b"}',
      '{oops',
      '{"id":"c","path":"https://evil.example/"}',
    ].join('\n');
    expect(readMessages('work.jsonl', text).problems).toEqual([
      'work.jsonl:3: (message): needs operation, or method + path',
      expect.stringMatching(/^work\.jsonl:4: not JSON \(.+\)$/),
      'work.jsonl:5: path: must start with / (relative to the vendor base URL) (got "https://evil.example/"); path: must not be a full URL (got "https://evil.example/"); method: is required with path',
    ]);
  });

  it('sends a valid file to the local queue with progress, and refuses an invalid one with exit code 2', async () => {
    const endpoint = localEndpoints().sqs;
    const sqs = new SQSClient({ endpoint, region: 'us-east-1' });
    const { QueueUrl = '' } = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('cli') }));
    const dir = mkdtempSync(join(tmpdir(), 'enqueue-'));
    const good = join(dir, 'good.jsonl');
    writeFileSync(
      good,
      Array.from({ length: 12 }, (_, i) => JSON.stringify({ id: `m-${i}`, operation: 'x' })).join('\n'),
    );
    const bad = join(dir, 'bad.jsonl');
    writeFileSync(bad, '{"id":"ok","operation":"x"}\n{"id":"no request"}\n');

    const out = capture();
    expect(
      await main(
        [good, '--queue-url', QueueUrl, '--endpoint-url', endpoint, '--region', 'us-east-1'],
        out as never,
      ),
    ).toBe(0);
    expect(out.text()).toBe(`sent 10/12\nsent 12/12\ndone: 12 message(s) on ${QueueUrl}\n`);

    const err = capture();
    expect(
      await main(
        [bad, '--queue-url', QueueUrl, '--endpoint-url', endpoint],
        capture() as never,
        err as never,
      ),
    ).toBe(2);
    expect(err.text()).toBe(
      `1 invalid line(s), nothing sent:\n  ${bad}:2: id: may contain only letters, digits and _ . : - (got "no request"); (message): needs operation, or method + path\n`,
    );
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Attributes.ApproximateNumberOfMessages).toBe('12');
    sqs.destroy();
  });
});
