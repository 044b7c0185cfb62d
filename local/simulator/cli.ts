import { parseArgs } from 'node:util';
import { exitWhenWritten } from '../cli/output';
import { CliUsageError } from '../cli/usage';
import { parseFixedWindowSpec } from './fixed-window';
import { SIMULATOR_PROFILES, type SimulatorProfileName, startVendorSimulator } from './index';

/**
 * Manual use: `npx tsx local/simulator/cli.ts --profile waitwhile --port 8080`.
 * Prints the URL, the key and the limits; Ctrl-C prints the statistics and stops.
 */
const USAGE = `Usage: npx tsx local/simulator/cli.ts [--profile ${SIMULATOR_PROFILES.join('|')}] [--port N] [--api-key KEY]
       [--latency-ms N] [--error-rate R] [--slow-rate R] [--slow-ms N] [--drop-rate R] [--hang-rate R]
       [--down-from S --down-for S] [--window fixed[:N/S]]`;

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      profile: { type: 'string', default: 'waitwhile' },
      port: { type: 'string', default: '0' },
      'api-key': { type: 'string' },
      'latency-ms': { type: 'string' },
      'error-rate': { type: 'string' },
      'slow-rate': { type: 'string' },
      'slow-ms': { type: 'string' },
      'drop-rate': { type: 'string' },
      'hang-rate': { type: 'string' },
      'down-from': { type: 'string' },
      'down-for': { type: 'string' },
      window: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const profile = values.profile as SimulatorProfileName;
  if (!SIMULATOR_PROFILES.includes(profile)) {
    throw new CliUsageError(
      `--profile ${values.profile} is not one of ${SIMULATOR_PROFILES.join(', ')}\n${USAGE}`,
    );
  }
  const downFrom = numberOption('--down-from', values['down-from'], 0, 86_400);
  const downFor = numberOption('--down-for', values['down-for'], 1, 86_400);
  if ((downFrom === undefined) !== (downFor === undefined)) {
    throw new CliUsageError(`--down-from and --down-for go together\n${USAGE}`);
  }
  const window = values.window === undefined ? undefined : parseFixedWindowSpec(values.window);
  if (window && 'problem' in window) throw new CliUsageError(`--window ${window.problem}\n${USAGE}`);
  const simulator = await startVendorSimulator({
    profile,
    ...(window ? { fixedWindow: window.spec } : {}),
    ...(downFrom !== undefined && downFor !== undefined
      ? { schedule: { down: { fromSeconds: downFrom, forSeconds: downFor } } }
      : {}),
    port: numberOption('--port', values.port, 0, 65_535),
    apiKey: values['api-key'],
    latencyMs: numberOption('--latency-ms', values['latency-ms'], 0, 600_000),
    faults: {
      errorRate: numberOption('--error-rate', values['error-rate'], 0, 1),
      slowRate: numberOption('--slow-rate', values['slow-rate'], 0, 1),
      slowMs: numberOption('--slow-ms', values['slow-ms'], 0, 600_000),
      dropRate: numberOption('--drop-rate', values['drop-rate'], 0, 1),
      hangRate: numberOption('--hang-rate', values['hang-rate'], 0, 1),
    },
  });
  console.log(`vendor simulator (${profile}) at ${simulator.url}`);
  console.log(`  Authorization: Bearer ${simulator.apiKey}`);
  console.log(`  limits: ${JSON.stringify(simulator.limits)}`);
  const stop = async () => {
    const stats = simulator.stats();
    console.log(
      `\n${stats.calls} calls, ${stats.refusals} refusals ${JSON.stringify(stats.refusedByStatus)}, by status ${JSON.stringify(stats.byStatus)}`,
    );
    await simulator.stop();
    exitWhenWritten(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

function numberOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new CliUsageError(`${name} ${text} must be a number from ${min} to ${max}`);
  }
  return value;
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  exitWhenWritten(2);
});
