import { readFileSync } from 'node:fs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { enqueue, isEnqueueError, validateMessage, type WorkMessage } from '../lambda/producer';

/**
 * `npm run enqueue -- FILE.jsonl --queue-url URL [--endpoint-url URL] [--region R]`
 * Validates every line first (nothing is sent if one is wrong), then sends them through the
 * producer helper. Works against real AWS (default credential chain) and the local stack
 * (`--endpoint-url` of its fauxqs). Exit codes: 0 sent, 1 send failed, 2 bad input.
 */
export interface EnqueueCliOptions {
  readonly file: string;
  readonly queueUrl: string;
  readonly endpointUrl?: string;
  readonly region?: string;
}

export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

const USAGE = 'usage: npm run enqueue -- FILE.jsonl --queue-url URL [--endpoint-url URL] [--region REGION]';

export function parseArguments(argv: readonly string[]): EnqueueCliOptions {
  const problems: string[] = [];
  const values: Record<string, string> = {};
  const files: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? '';
    if (!argument.startsWith('--')) {
      files.push(argument);
      continue;
    }
    const [name, inline] = argument.split('=', 2) as [string, string | undefined];
    if (!['--queue-url', '--endpoint-url', '--region'].includes(name)) {
      problems.push(`unknown option ${name}`);
      continue;
    }
    const value = inline ?? argv[++index];
    if (value === undefined || value.startsWith('--')) problems.push(`${name} needs a value`);
    else values[name] = value;
  }
  if (files.length !== 1) problems.push(`give exactly one FILE.jsonl (got ${files.length})`);
  if (!values['--queue-url']) problems.push('--queue-url is required');
  if (problems.length > 0) throw new CliUsageError(`${problems.join('; ')}\n${USAGE}`);
  return {
    file: files[0] ?? '',
    queueUrl: values['--queue-url'] ?? '',
    ...(values['--endpoint-url'] ? { endpointUrl: values['--endpoint-url'] } : {}),
    ...(values['--region'] ? { region: values['--region'] } : {}),
  };
}

/** Every line checked; problems name `file:line`. Blank lines are skipped. */
export function readMessages(file: string, text: string): { messages: WorkMessage[]; problems: string[] } {
  const messages: WorkMessage[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      problems.push(`${file}:${index + 1}: not JSON (${(error as Error).message})`);
      return;
    }
    const parsed = validateMessage(value);
    if (parsed.ok) messages.push(parsed.message);
    else problems.push(`${file}:${index + 1}: ${parsed.reason}`);
  });
  return { messages, problems };
}

/** The region for the SQS client: the flag, else the queue URL's own (sqs.<region>.amazonaws.com), else the SDK's chain. */
export function regionFor(options: EnqueueCliOptions): string | undefined {
  if (options.region) return options.region;
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\//.exec(options.queueUrl)?.[1];
}

export async function main(
  argv: readonly string[],
  out = process.stdout,
  err = process.stderr,
): Promise<number> {
  let options: EnqueueCliOptions;
  let messages: WorkMessage[];
  try {
    options = parseArguments(argv);
    const read = readMessages(options.file, readFileSync(options.file, 'utf8'));
    if (read.problems.length > 0) {
      err.write(`${read.problems.length} invalid line(s), nothing sent:\n  ${read.problems.join('\n  ')}\n`);
      return 2;
    }
    messages = read.messages;
  } catch (error) {
    err.write(`${(error as Error).message}\n`);
    return 2;
  }
  const region = regionFor(options);
  const sqs = new SQSClient({
    ...(region ? { region } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
  });
  try {
    const report = await enqueue(sqs, options.queueUrl, messages, {
      onProgress: ({ sent, total }) => out.write(`sent ${sent}/${total}\n`),
    });
    out.write(
      `done: ${report.sent} message(s) on ${options.queueUrl}${report.retried ? ` (${report.retried} retried)` : ''}\n`,
    );
    return 0;
  } catch (error) {
    err.write(
      `${isEnqueueError(error) ? error.message : `${(error as Error).name}: ${(error as Error).message}`}\n`,
    );
    return 1;
  } finally {
    sqs.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
