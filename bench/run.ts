import { reserveStdoutForJson, runCommand } from '../local/cli/output';
import { CliUsageError } from '../local/cli/usage';
import { startDynamoDbLocal } from '../local/servers/dynamodb-local';
import { parseBenchOptions } from './options';
import { benchJson } from './report/bench-json';
import { writeOutageOutputs } from './report/outage-report';
import { savedResults, writeOutputs } from './report/outputs';
import { textTable } from './report/table';
import { runDrainStage } from './stages/drain';
import { runFixedWindowStage } from './stages/fixed-window';
import { runOutageStage } from './stages/outage';
import { type PoolResult, runPoolStage } from './stages/pool-drain';
import { runSharesStage } from './stages/shares';
import { runSuite, type SuiteResult } from './stages/suite';
import { runVendorZoo, writeZooOutputs } from './stages/vendors';

/** `npm run bench`: every contestant on one DynamoDB Local started (and stopped) here. */
async function main(argv: readonly string[]): Promise<number> {
  const options = parseBenchOptions(argv);
  // With --json, stdout carries the JSON object only, whatever else writes to it meanwhile.
  const jsonStdout = options.json ? reserveStdoutForJson() : undefined;
  const print = (value: unknown) => {
    if (jsonStdout) jsonStdout.print(value);
    else process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  };
  const progress = (line: string) => {
    (options.json ? process.stderr : process.stdout).write(
      `[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`,
    );
  };
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_REGION ??= 'us-east-1';
  if (options.saved) {
    print(savedResults());
    return 0;
  }
  if (options.render) {
    writeOutputs({});
    progress('regenerated bench/RESULTS.md, bench/charts/ and docs/performance.md from bench/results/');
    return 0;
  }
  if (options.fixedWindow) {
    const fixedWindow = await runFixedWindowStage(progress);
    if (options.write) writeOutputs({ fixedWindow });
    print(fixedWindow);
    return 0;
  }
  if (options.vendors) {
    const zoo = await runVendorZoo(
      { vendorLimitForm: options.vendorLimit, ...(options.only ? { only: options.only } : {}) },
      progress,
    );
    if (options.write) writeZooOutputs(zoo, __dirname);
    const figures = zoo.runs.map(({ rateScale: _scale, admittedShare: _admitted, ...run }) => run);
    print({ ...zoo, runs: figures });
    return 0;
  }
  if (options.shares) {
    const shares = await runSharesStage(progress);
    if (options.write) writeOutputs({ shares });
    const figures = shares.runs.map(({ perSecond: _perSecond, ...figures }) => figures);
    print({ ran: true, runs: figures });
    return 0;
  }
  if (options.outage) {
    const outage = await runOutageStage(options.outage, progress);
    if (options.write) writeOutageOutputs(outage, __dirname);
    const figures = outage.runs.map(({ timeline: _timeline, ...figures }) => figures);
    print({ ...outage, runs: figures });
    return 0;
  }
  if (options.drain || options.pool) {
    const drain = options.pool ? undefined : await runDrainStage(options, progress);
    const fixedWindow = options.pool ? undefined : await runFixedWindowStage(progress);
    const pool = await runPoolStage(options.only, progress);
    if (options.write)
      writeOutputs({ ...(drain ? { drain } : {}), ...(fixedWindow ? { fixedWindow } : {}), pool });
    const summary = {
      ...(drain ? { drain } : {}),
      ...(fixedWindow ? { fixedWindow } : {}),
      pool: withoutSeries(pool),
    };
    print(summary);
    return 0;
  }
  progress('starting DynamoDB Local');
  const server = await startDynamoDbLocal();
  let suite: SuiteResult;
  try {
    suite = await runSuite(server.endpoint, options, progress);
  } finally {
    await server.stop();
  }
  const output = benchJson(suite, argv);
  if (options.write) writeOutputs({ suite: output });
  if (jsonStdout) {
    jsonStdout.print(output);
  } else {
    process.stdout.write(`\n${textTable(suite)}\n`);
  }
  return 0;
}

/** The per-second series are for the charts; stdout gets the figures. */
function withoutSeries(pool: PoolResult) {
  const strip = <T extends { perSecond?: unknown }>(run: T | undefined) => {
    if (!run) return undefined;
    const { perSecond: _series, ...rest } = run;
    return rest;
  };
  return {
    ...pool,
    scenarios: pool.scenarios.map((s) => ({ ...s, pool: strip(s.pool), sequential: strip(s.sequential) })),
  };
}

// Exits once the output is written: on a pipe, an exit right after the write would cut it.
runCommand(
  () => main(process.argv.slice(2)),
  (error) => ({
    message: error instanceof CliUsageError ? error.message : String((error as Error).stack ?? error),
    code: error instanceof CliUsageError ? 2 : 1,
  }),
);
