import { parseArgs } from 'node:util';

/** Simulator profiles, each drawn from one of the source documents' vendors. */
export const PROFILES = ['waitwhile', 'openai', 'sweeppea'] as const;
export type Profile = (typeof PROFILES)[number];

/** The slowest simulated vendor: a minute, the longest a chat completion is worth waiting for. */
export const MAX_VENDOR_LATENCY_MS = 60_000;

/** The largest demo workload: beyond it the run no longer fits "about a minute". */
export const MAX_COUNT = 10_000;
/** Demo sizes that finish in about a minute at each profile's true limits (sweeppea: 60 calls/min). */
export const DEFAULT_COUNTS: Readonly<Record<Profile, number>> = {
  waitwhile: 250,
  openai: 250,
  sweeppea: 100,
};

/** The options of `npm start` (issue 5: a stable interface, other tools drive it). */
export interface CliOptions {
  readonly messagesFile?: string;
  readonly vendorUrl?: string;
  readonly configFile?: string;
  readonly profile: Profile;
  readonly count: number;
  readonly reportFile?: string;
  /** The simulator's service time per call (its default is 20 ms). */
  readonly vendorLatencyMs?: number;
  readonly chaos: boolean;
  readonly quiet: boolean;
  readonly help: boolean;
}

export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

export const USAGE = `Usage: npm start -- [options]

Runs Sluice on this machine: DynamoDB Local, fauxqs (SQS), a vendor simulator, the real
worker and reconciler handlers. Exits 0 only if every message ended completed or in the
dead-letter queue with a reason.

Options:
  --messages FILE    JSONL messages in the producer contract, instead of the demo workload
  --vendor-url URL   send vendor calls to this base URL instead of starting the simulator
  --config FILE      the stack configuration (same format as config/sluice.config.json)
  --profile NAME     simulator profile: ${PROFILES.join(', ')} (default waitwhile)
  --count N          size of the demo workload (default ${DEFAULT_COUNTS.waitwhile}, sweeppea ${DEFAULT_COUNTS.sweeppea}; at most ${MAX_COUNT})
  --report FILE      write a JSON report of the run to FILE
  --vendor-latency-ms N
                     the simulator answers each call N ms after it arrives (default 20),
                     to watch the worker's pool fill a slow vendor's quota
  --chaos            inject faults: a worker dying between acquire and release, vendor 5xx
                     and hangs, a message delivered twice
  --quiet            print only the summary
  --help             show this help
`;

const SPEC = {
  messages: { type: 'string' },
  'vendor-url': { type: 'string' },
  config: { type: 'string' },
  profile: { type: 'string' },
  count: { type: 'string' },
  report: { type: 'string' },
  'vendor-latency-ms': { type: 'string' },
  chaos: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses argv (without node and script); every problem is reported together. */
export function parseCliOptions(argv: readonly string[]): CliOptions {
  let parsed: ReturnType<typeof parseArgs<{ options: typeof SPEC; strict: true; allowPositionals: false }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: SPEC, strict: true, allowPositionals: false });
  } catch (error) {
    throw new CliUsageError(`${describeParseError(error)}\nRun \`npm start -- --help\` for the options.`);
  }
  const values = parsed.values;
  const problems: string[] = [];

  const profile = values.profile ?? 'waitwhile';
  if (!isProfile(profile)) {
    problems.push(`--profile must be one of ${PROFILES.join(', ')} (got "${profile}")`);
  }
  const count =
    values.count !== undefined ? Number(values.count) : isProfile(profile) ? DEFAULT_COUNTS[profile] : 0;
  if (values.count !== undefined && (!Number.isInteger(count) || count < 1 || count > MAX_COUNT)) {
    problems.push(`--count must be a whole number from 1 to ${MAX_COUNT} (got "${values.count}")`);
  }
  if (values.count !== undefined && values.messages !== undefined) {
    problems.push('--count sizes the demo workload and cannot be combined with --messages');
  }
  if (values['vendor-url'] !== undefined && !isHttpUrl(values['vendor-url'])) {
    problems.push(`--vendor-url must be an http:// or https:// URL (got "${values['vendor-url']}")`);
  }
  const latency = values['vendor-latency-ms'];
  const vendorLatencyMs = latency === undefined ? undefined : Number(latency);
  if (
    vendorLatencyMs !== undefined &&
    (!Number.isInteger(vendorLatencyMs) || vendorLatencyMs < 0 || vendorLatencyMs > MAX_VENDOR_LATENCY_MS)
  ) {
    problems.push(
      `--vendor-latency-ms must be a whole number from 0 to ${MAX_VENDOR_LATENCY_MS} (got "${latency}")`,
    );
  }
  if (latency !== undefined && values['vendor-url'] !== undefined) {
    problems.push('--vendor-latency-ms sets the simulator and cannot be combined with --vendor-url');
  }
  for (const name of ['messages', 'config', 'report'] as const) {
    if (values[name] === '') problems.push(`--${name} needs a file name`);
  }
  if (problems.length > 0) {
    throw new CliUsageError(
      `Invalid options:\n  ${problems.join('\n  ')}\nRun \`npm start -- --help\` for the options.`,
    );
  }
  return {
    messagesFile: values.messages,
    vendorUrl: values['vendor-url'],
    configFile: values.config,
    profile: profile as Profile,
    count,
    reportFile: values.report,
    ...(vendorLatencyMs !== undefined ? { vendorLatencyMs } : {}),
    chaos: values.chaos ?? false,
    quiet: values.quiet ?? false,
    help: values.help ?? false,
  };
}

function isProfile(value: string): value is Profile {
  return (PROFILES as readonly string[]).includes(value);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** parseArgs' own messages mention its API; these name the option as the user typed it. */
function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'(-{1,2}[^'\s]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `Unknown option ${option}.`;
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']*)'/.exec(message)?.[1] ?? '';
    return `Unexpected argument "${arg}": every option starts with --.`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/argument missing/.test(message)) return `Option ${option} needs a value.`;
    if (/ambiguous/.test(message))
      return `Option ${option} needs a value (it was followed by another option).`;
    if (/does not take an argument/.test(message)) return `Option ${option} takes no value.`;
  }
  return message;
}
