import { parseArgs } from 'node:util';
import { type FixedWindowSpec, parseFixedWindowSpec } from '../simulator/fixed-window';
import { CliUsageError } from './usage';

/** Simulator profiles: a CRM, a booking API and OpenAI's limits (docs/vendor.md, "Profiles"). */
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

/** The options of `npm start`: a stable interface, other tools drive it (docs/local-stack.md). */
export interface CliOptions {
  readonly messagesFile?: string;
  readonly vendorUrl?: string;
  readonly configFile?: string;
  readonly profile: Profile;
  readonly count: number;
  /** Which of `profile` and `count` the user typed; the others follow the configuration (see profile.ts). */
  readonly given: { readonly profile: boolean; readonly count: boolean };
  readonly reportFile?: string;
  /** Keep the stack up for producers until Ctrl-C (see docs/local-stack.md, serve mode). */
  readonly serve: boolean;
  /** A run not drained after this long stops; what is still queued is reported pending. */
  readonly maxRunSeconds: number;
  /** The simulator's service time per call (its default is 20 ms). */
  readonly vendorLatencyMs?: number;
  /** The simulator also answers as a fixed-window vendor (express-rate-limit): N per window of S s. */
  readonly vendorWindow?: FixedWindowSpec;
  readonly chaos: boolean;
  /** Serve the work queue in fauxqs's own order, without the local fair-queue equivalent (to compare). */
  readonly queueInOrder?: boolean;
  /** The simulator goes down (drops every connection) for a while: `--down-from S --down-for S`. */
  readonly outage?: { readonly fromSeconds: number; readonly forSeconds: number };
  readonly quiet: boolean;
  /** Write the run report's page (self-contained HTML, charts and summary) to this file. */
  readonly htmlFile?: string;
  /** Serve the same page live on 127.0.0.1 while the run goes (`--dashboard-port`, or any free port). */
  readonly dashboard?: { readonly port: number };
  readonly help: boolean;
}

/** The longest a run waits for the queue to drain before it stops and reports what is still pending. */
export const DEFAULT_MAX_RUN_SECONDS = 600;
/** Options whose value may be a number, so "-5" is read as their value, not as an option. */
const NUMERIC_OPTIONS = new Set([
  '--count',
  '--max-run-seconds',
  '--vendor-latency-ms',
  '--down-from',
  '--down-for',
  '--dashboard-port',
]);
/** The longest outage `--down-for` may ask for (the bench's is 10 minutes). */
export const MAX_OUTAGE_SECONDS = 3_600;
/** Under --chaos, when the vendor goes down and for how long: enough failures to open the circuit. */
export const CHAOS_OUTAGE = { fromSeconds: 5, forSeconds: 20 } as const;

export const USAGE = `Usage: npm start -- [options]

Runs Sluice on this machine: DynamoDB Local, fauxqs (SQS), a vendor simulator, the real
worker and reconciler handlers. Exits 0 only if every message ended completed or in the
dead-letter queue with a reason.

Options:
  --messages FILE    JSONL messages in the producer contract, instead of the demo workload
  --vendor-url URL   send vendor calls to this base URL instead of starting the simulator
  --config FILE      the stack configuration (same format as config/sluice.config.json)
  --profile NAME     simulator profile: ${PROFILES.join(', ')} (default: the configuration's vendor;
                     without --config, waitwhile). It must match the configuration's vendor.
  --count N          size of the demo workload (default ${DEFAULT_COUNTS.waitwhile}, sweeppea ${DEFAULT_COUNTS.sweeppea}; at most ${MAX_COUNT};
                     with --serve, default 0)
  --serve            keep the stack up for producers: print an \`npm run enqueue\` command, show each
                     message as it arrives, print the summary on Ctrl-C
  --max-run-seconds N  stop a run that has not drained after N seconds and report what is still
                     pending (default ${DEFAULT_MAX_RUN_SECONDS}; not with --serve)
  --report FILE      write a JSON report of the run to FILE (its folder must exist)
  --vendor-latency-ms N
                     the simulator answers each call N ms after it arrives (default 20),
                     to watch the worker's pool fill a slow vendor's quota
  --vendor-window fixed[:N/S]
                     the simulator also limits as a fixed-window vendor (express-rate-limit):
                     N requests per S-second window from the first request (default 3/1), the
                     standard RateLimit headers, Retry-After on a 429
  --down-from S --down-for S
                     the simulator goes down S seconds after it starts, for S seconds (every
                     connection dropped), to watch the vendor circuit open, probe and close
  --chaos            inject faults: a worker dying between acquire and release, vendor 5xx
                     and hangs, a message delivered twice, and a ${CHAOS_OUTAGE.forSeconds} s outage from ${CHAOS_OUTAGE.fromSeconds} s
                     that opens the vendor circuit
  --queue-in-order   serve the work queue in the order it was sent, without the local equivalent
                     of SQS fair queues (message groups served round-robin), to compare
  --html FILE        write the run report's page to FILE: one self-contained HTML file with the
                     admitted rate per bucket, 429s and penalties, the rate scale, calls in
                     flight, the queue, message fates, the circuit and the summary
  --dashboard        serve the same page live on 127.0.0.1 while the run goes (with --serve too)
  --dashboard-port N the dashboard's port (default: any free port; implies --dashboard)
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
  serve: { type: 'boolean' },
  'max-run-seconds': { type: 'string' },
  'vendor-latency-ms': { type: 'string' },
  'vendor-window': { type: 'string' },
  chaos: { type: 'boolean' },
  'queue-in-order': { type: 'boolean' },
  'down-from': { type: 'string' },
  'down-for': { type: 'string' },
  quiet: { type: 'boolean' },
  html: { type: 'string' },
  dashboard: { type: 'boolean' },
  'dashboard-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type ParsedArgs = ReturnType<
  typeof parseArgs<{ options: typeof SPEC; strict: true; allowPositionals: false }>
>;
/** The options as typed, each a string or a flag. */
type Values = ParsedArgs['values'];

/** Parses argv (without node and script); every problem is reported together. */
export function parseCliOptions(argv: readonly string[]): CliOptions {
  const values = readArgs(argv);
  const problems: string[] = [];
  const workload = workloadOptions(values, problems);
  if (values['vendor-url'] !== undefined && !isHttpUrl(values['vendor-url'])) {
    problems.push(`--vendor-url must be an http:// or https:// URL (got "${values['vendor-url']}")`);
  }
  const maxRunSeconds = maxRunSecondsOption(values, workload.serve, problems);
  const { outage, ...simulator } = simulatorOptions(values, problems);
  const dashboard = dashboardOption(values, problems);
  for (const name of ['messages', 'config', 'report', 'html'] as const) {
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
    profile: workload.profile as Profile,
    count: workload.count,
    given: { profile: values.profile !== undefined, count: values.count !== undefined },
    reportFile: values.report,
    serve: workload.serve,
    maxRunSeconds,
    ...simulator,
    chaos: values.chaos ?? false,
    ...(values['queue-in-order'] ? { queueInOrder: true } : {}),
    ...(outage ? { outage } : {}),
    quiet: values.quiet ?? false,
    ...(values.html !== undefined ? { htmlFile: values.html } : {}),
    ...(dashboard ? { dashboard } : {}),
    help: values.help ?? false,
  };
}

/** The options as typed; an unknown option or a missing value is a usage error at once. */
function readArgs(argv: readonly string[]): Values {
  try {
    return parseArgs({
      args: joinNumericValues(argv),
      options: SPEC,
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new CliUsageError(`${describeParseError(error)}\nRun \`npm start -- --help\` for the options.`);
  }
}

/** The simulator's profile and the demo workload's size (none in the serve mode unless asked). */
function workloadOptions(
  values: Values,
  problems: string[],
): { profile: string; serve: boolean; count: number } {
  const profile = values.profile ?? 'waitwhile';
  if (!isProfile(profile)) {
    problems.push(`--profile must be one of ${PROFILES.join(', ')} (got "${profile}")`);
  }
  const serve = values.serve ?? false;
  const count =
    values.count !== undefined
      ? Number(values.count)
      : serve
        ? 0
        : isProfile(profile)
          ? DEFAULT_COUNTS[profile]
          : 0;
  if (values.count !== undefined && (!Number.isInteger(count) || count < 1 || count > MAX_COUNT)) {
    problems.push(`--count must be a whole number from 1 to ${MAX_COUNT} (got "${values.count}")`);
  }
  if (values.count !== undefined && values.messages !== undefined) {
    problems.push('--count sizes the demo workload and cannot be combined with --messages');
  }
  return { profile, serve, count };
}

/** `--max-run-seconds`: whole seconds, for a run that ends by itself (not the serve mode). */
function maxRunSecondsOption(values: Values, serve: boolean, problems: string[]): number {
  const text = values['max-run-seconds'];
  const maxRunSeconds = text !== undefined ? Number(text) : DEFAULT_MAX_RUN_SECONDS;
  if (text !== undefined) {
    if (!Number.isInteger(maxRunSeconds) || maxRunSeconds < 1) {
      problems.push(`--max-run-seconds must be a whole number of seconds, at least 1 (got "${text}")`);
    } else if (serve) {
      problems.push('--max-run-seconds bounds a run that ends by itself; --serve runs until Ctrl-C');
    }
  }
  return maxRunSeconds;
}

/** What the simulator is told: its service time, a fixed window, an outage; none with `--vendor-url`. */
function simulatorOptions(
  values: Values,
  problems: string[],
): Pick<CliOptions, 'vendorLatencyMs' | 'vendorWindow' | 'outage'> {
  const external = values['vendor-url'] !== undefined;
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
  if (latency !== undefined && external) {
    problems.push('--vendor-latency-ms sets the simulator and cannot be combined with --vendor-url');
  }
  const windowText = values['vendor-window'];
  const vendorWindow = windowText === undefined ? undefined : parseFixedWindowSpec(windowText);
  if (vendorWindow && 'problem' in vendorWindow) problems.push(`--vendor-window ${vendorWindow.problem}`);
  if (windowText !== undefined && external) {
    problems.push('--vendor-window sets the simulator and cannot be combined with --vendor-url');
  }
  const outage = outageOption(values['down-from'], values['down-for'], problems);
  if (outage && external) {
    problems.push(
      '--down-from and --down-for schedule the simulator and cannot be combined with --vendor-url',
    );
  }
  return {
    ...(vendorLatencyMs !== undefined ? { vendorLatencyMs } : {}),
    ...(vendorWindow && 'spec' in vendorWindow ? { vendorWindow: vendorWindow.spec } : {}),
    ...(outage ? { outage } : {}),
  };
}

/** `--dashboard`, or `--dashboard-port N` which implies it; port 0 is any free port. */
function dashboardOption(values: Values, problems: string[]): CliOptions['dashboard'] {
  const portText = values['dashboard-port'];
  const port = portText === undefined ? 0 : Number(portText);
  if (portText !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) {
    problems.push(`--dashboard-port must be a port number from 1 to 65535 (got "${portText}")`);
  }
  return values.dashboard === true || portText !== undefined ? { port } : undefined;
}

function outageOption(
  from: string | undefined,
  duration: string | undefined,
  problems: string[],
): CliOptions['outage'] {
  if (from === undefined && duration === undefined) return undefined;
  if (from === undefined || duration === undefined) {
    problems.push('--down-from and --down-for go together: when the vendor goes down, and for how long');
    return undefined;
  }
  const fromSeconds = Number(from);
  const forSeconds = Number(duration);
  const before = problems.length;
  if (!Number.isInteger(fromSeconds) || fromSeconds < 0 || from.trim() === '') {
    problems.push(`--down-from must be a whole number of seconds, at least 0 (got "${from}")`);
  }
  if (!Number.isInteger(forSeconds) || forSeconds < 1 || forSeconds > MAX_OUTAGE_SECONDS) {
    problems.push(
      `--down-for must be a whole number of seconds from 1 to ${MAX_OUTAGE_SECONDS} (got "${duration}")`,
    );
  }
  return problems.length === before ? { fromSeconds, forSeconds } : undefined;
}

/** `--count -5` would read "-5" as an option and say the value is missing: read it as the value. */
function joinNumericValues(argv: readonly string[]): string[] {
  const args: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] ?? '';
    const next = argv[index + 1];
    if (NUMERIC_OPTIONS.has(argument) && next !== undefined && /^-[\d.]/.test(next)) {
      args.push(`${argument}=${next}`);
      index += 1;
    } else args.push(argument);
  }
  return args;
}

export function isProfile(value: string): value is Profile {
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
