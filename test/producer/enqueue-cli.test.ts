import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { main, parseArguments, readMessages, regionFor } from '../../local/enqueue-cli';
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
      'work.jsonl:5: path: must start with / (relative to the vendor base URL); path: must not be a full URL; method: is required with path',
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
      `1 invalid line(s), nothing sent:\n  ${bad}:2: id: may contain only letters, digits and _ . : -; (message): needs operation, or method + path\n`,
    );
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Attributes.ApproximateNumberOfMessages).toBe('12');
    sqs.destroy();
  });
});
