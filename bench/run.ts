import { CliUsageError } from '../local/cli-usage';
import { startDynamoDbLocal } from '../local/servers/dynamodb-local';
import { benchJson } from './bench-json';
import { runDrainStage } from './drain';
import { runFixedWindowStage } from './fixed-window';
import { parseBenchOptions } from './options';
import { runOutageStage } from './outage';
import { writeOutageOutputs } from './outage-report';
import { type PoolResult, runPoolStage } from './pool-drain';
import { writeOutputs } from './report';
import { runSharesStage } from './shares';
import { runSuite, type SuiteResult } from './suite';
import { textTable } from './table';

/** `npm run bench`: every contestant on one DynamoDB Local started (and stopped) here. */
async function main(argv: readonly string[]): Promise<number> {
  const options = parseBenchOptions(argv);
  const progress = (line: string) => {
    // With --json, stdout carries the JSON object only.
    (options.json ? process.stderr : process.stdout).write(
      `[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`,
    );
  };
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_REGION ??= 'us-east-1';
  if (options.render) {
    writeOutputs({});
    progress('regenerated bench/RESULTS.md, bench/charts/ and docs/performance.md from bench/results/');
    return 0;
  }
  if (options.fixedWindow) {
    const fixedWindow = await runFixedWindowStage(progress);
    if (options.write) writeOutputs({ fixedWindow });
    process.stdout.write(`${JSON.stringify(fixedWindow, null, options.json ? undefined : 2)}\n`);
    return 0;
  }
  if (options.shares) {
    const shares = await runSharesStage(progress);
    if (options.write) writeOutputs({ shares });
    const figures = shares.runs.map(({ perSecond: _perSecond, ...figures }) => figures);
    process.stdout.write(
      `${JSON.stringify({ ran: true, runs: figures }, null, options.json ? undefined : 2)}\n`,
    );
    return 0;
  }
  if (options.outage) {
    const outage = await runOutageStage(options.outage, progress);
    if (options.write) writeOutageOutputs(outage, __dirname);
    const figures = outage.runs.map(({ timeline: _timeline, ...figures }) => figures);
    process.stdout.write(
      `${JSON.stringify({ ...outage, runs: figures }, null, options.json ? undefined : 2)}\n`,
    );
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
    process.stdout.write(`${JSON.stringify(summary, null, options.json ? undefined : 2)}\n`);
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
  if (options.json) {
    process.stdout.write(`${JSON.stringify(output)}\n`);
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof CliUsageError ? error.message : (error as Error).stack}\n`);
    process.exit(error instanceof CliUsageError ? 2 : 1);
  },
);
