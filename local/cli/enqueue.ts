import { readFileSync } from 'node:fs';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  enqueue,
  isEnqueueError,
  messageSizeProblem,
  validateMessage,
  type WorkMessage,
} from '../../lambda/producer';
import { quietNodeVersionWarning } from './node-warning';
import { runCommand } from './output';
import { CliUsageError } from './usage';

/**
 * `npm run enqueue -- FILE.jsonl --queue-url URL [--endpoint-url URL] [--region R]`
 * Validates every line first (nothing is sent if one is wrong), then sends them through the
 * producer helper. Works against real AWS (default credential chain) and the local stack
 * (`--endpoint-url` of its fauxqs, as `npm start -- --serve` prints it). Exit codes: 0 sent,
 * 1 send failed, 2 bad input.
 */
export interface EnqueueCliOptions {
  readonly file: string;
  readonly queueUrl: string;
  readonly endpointUrl?: string;
  readonly region?: string;
  readonly help?: boolean;
}

const USAGE = 'usage: npm run enqueue -- FILE.jsonl --queue-url URL [--endpoint-url URL] [--region REGION]';

export const HELP = `${USAGE}

Sends the work messages of FILE.jsonl (one JSON message per line, in the producer contract:
an "id" and an "operation", or "method" and "path") to the worker's queue. Every line is
checked first: if one is wrong, nothing is sent and each problem is named by file:line.

Options:
  --queue-url URL     the worker's queue (the stack's outputs; locally, \`npm start -- --serve\` prints it)
  --endpoint-url URL  an SQS endpoint other than AWS's, e.g. the local stack's fauxqs
  --region REGION     default: the queue URL's region (sqs.REGION....); for a local endpoint us-east-1
  --help              show this help

On AWS the default credential chain applies. A local endpoint (localhost, 127.x) accepts any
credentials: without AWS credentials in the environment, fixed local ones are used.
Exit codes: 0 sent, 1 the send failed, 2 bad arguments or input.
`;

/** The local stack's servers accept any key; the SDK only needs one to sign with. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const LOCAL_REGION = 'us-east-1';

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
    if (name === '--help' || name === '-h') {
      values['--help'] = 'true';
      continue;
    }
    if (!['--queue-url', '--endpoint-url', '--region'].includes(name)) {
      problems.push(`unknown option ${name}`);
      continue;
    }
    const value = inline ?? argv[++index];
    if (value === undefined || value.startsWith('--')) problems.push(`${name} needs a value`);
    else values[name] = value;
  }
  if (values['--help']) return { file: '', queueUrl: '', help: true };
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

/**
 * Every line checked; problems name `file:line`: not JSON, the producer contract, a body too
 * big for SQS, an id used on an earlier line. Blank lines are skipped; a file with no
 * message at all is a problem too.
 */
export function readMessages(file: string, text: string): { messages: WorkMessage[]; problems: string[] } {
  const messages: WorkMessage[] = [];
  const problems: string[] = [];
  const seen = new Map<string, number>();
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
    if (!parsed.ok) {
      problems.push(`${file}:${index + 1}: ${parsed.reason}`);
      return;
    }
    const tooBig = messageSizeProblem(parsed.message);
    const earlier = seen.get(parsed.message.id);
    if (tooBig) problems.push(`${file}:${index + 1}: ${tooBig}`);
    else if (earlier !== undefined)
      problems.push(`${file}:${index + 1}: id "${parsed.message.id}" is already used on line ${earlier}`);
    else {
      seen.set(parsed.message.id, index + 1);
      messages.push(parsed.message);
    }
  });
  if (messages.length === 0 && problems.length === 0)
    problems.push(`${file}: no messages (every line is blank)`);
  return { messages, problems };
}

/** The file's text, or a sentence saying why it cannot be read (not a raw ENOENT). */
function readFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a folder'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new CliUsageError(`${file}: cannot read the messages file (${why})`, { cause: error });
  }
}

/** An endpoint on this machine: the local stack, which takes any credentials. */
export function isLocalEndpoint(endpointUrl: string | undefined): boolean {
  if (!endpointUrl) return false;
  try {
    const host = new URL(endpointUrl).hostname;
    return host === 'localhost' || host === '[::1]' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/**
 * The region for the SQS client: the flag, else the queue URL's own (sqs.<region>.amazonaws.com,
 * or the local stack's sqs.<region>.127.0.0.1), else us-east-1 for a local endpoint, else the SDK's chain.
 */
export function regionFor(options: EnqueueCliOptions): string | undefined {
  if (options.region) return options.region;
  const fromUrl = /^https?:\/\/sqs\.([a-z]{2}(?:-[a-z]+)+-\d)\./.exec(options.queueUrl)?.[1];
  if (fromUrl) return fromUrl;
  return isLocalEndpoint(options.endpointUrl) ? LOCAL_REGION : undefined;
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
    if (options.help) {
      out.write(HELP);
      return 0;
    }
    const read = readMessages(options.file, readFile(options.file));
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
  const localCredentials =
    isLocalEndpoint(options.endpointUrl) && !process.env.AWS_ACCESS_KEY_ID && !process.env.AWS_PROFILE;
  const sqs = new SQSClient({
    ...(region ? { region } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
    ...(localCredentials ? { credentials: LOCAL_CREDENTIALS } : {}),
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
    const message = isEnqueueError(error)
      ? error.message
      : `${(error as Error).name}: ${(error as Error).message}`;
    err.write(`${message}${hintFor(message, options)}\n`);
    return 1;
  } finally {
    sqs.destroy();
  }
}

/** What to check next, for the failures a newcomer meets first. */
function hintFor(message: string, options: EnqueueCliOptions): string {
  if (/QueueDoesNotExist|NonExistentQueue/.test(message))
    return `\n  No queue at ${options.queueUrl}${options.endpointUrl ? ` on ${options.endpointUrl}` : ''}: copy the command \`npm start -- --serve\` prints (the local queue exists only while it runs), or the stack's queue URL output.`;
  if (/Region is missing/.test(message)) return '\n  Give --region (or set AWS_REGION).';
  if (/ECONNREFUSED/.test(message) && options.endpointUrl)
    return `\n  Nothing answers at ${options.endpointUrl}: is \`npm start -- --serve\` still running? Its endpoint changes with each start.`;
  if (/CredentialsProviderError|Could not load credentials/.test(message))
    return '\n  No AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (a local --endpoint-url needs none).';
  return '';
}

if (require.main === module) {
  quietNodeVersionWarning();
  runCommand(
    () => main(process.argv.slice(2)),
    (error) => ({
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
      code: 1,
    }),
  );
}
