import { resolve } from 'node:path';
import { defaultConfigFile, InputFileError, loadConfigFile, loadMessagesFile } from './cli/inputs';
import { quietNodeVersionWarning } from './cli/node-warning';
import { type CliOptions, parseCliOptions, USAGE } from './cli/options';
import { runCommand } from './cli/output';
import { checkReportPath, followConfiguration, messageProblemFor } from './cli/preflight';
import { shortPath } from './cli/serve';
import { CliUsageError } from './cli/usage';
import { writeReport } from './report/report';
import { summaryTable } from './report/summary';
import { type LiveDashboard, startLiveDashboard } from './report-page/live-server';
import { runPageState, timelineFor, writeReportPage } from './report-page/run-page';
import { prepareRun } from './run/prepare';
import { runLocalStack } from './run/run';
import { assertJava } from './servers/dynamodb-local';
import { LocalServerError } from './servers/process';
import type { RunTimeline } from './timeline/recorder';

quietNodeVersionWarning();

/**
 * A terminal's Ctrl-C reaches every process of the foreground group, and `tsx` also relays
 * it to this one when its child is slow to acknowledge: a second signal this soon after the
 * first is the same key press, not a second one.
 */
const SAME_PRESS_MS = 500;

/**
 * `npm start`: the whole stack on this machine. Everything the user typed is checked before
 * any server starts; the exit code is 0 only if every message ended completed or in the DLQ
 * with a reason. Ctrl-C stops the run after the running invocation and prints the summary; a
 * second Ctrl-C abandons that invocation and still prints it; a third exits at once (the
 * server process groups are killed on exit either way).
 */
async function main(argv: readonly string[]): Promise<number> {
  let options: CliOptions;
  try {
    options = parseCliOptions(argv);
  } catch (error) {
    return fail(error);
  }
  if (options.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let prepared: ReturnType<typeof prepareRun>;
  try {
    const configFile = options.configFile ?? defaultConfigFile(options.profile);
    const config = loadConfigFile(configFile);
    options = followConfiguration(options, config, configFile);
    checkReportPath(options.reportFile);
    checkReportPath(options.htmlFile, '--html');
    const messages = options.messagesFile
      ? loadMessagesFile(options.messagesFile, messageProblemFor(config)).map((m) => m.message)
      : undefined;
    prepared = prepareRun(options, config, configFile, messages);
    assertJava();
  } catch (error) {
    return fail(error);
  }

  // First Ctrl-C: stop after the running invocation. Second: abandon it, still print the
  // summary. Third: quit at once (the server process groups are killed on exit either way).
  const stop = new AbortController();
  const quitNow = new AbortController();
  let lastSignalMs: number | undefined;
  const onSignal = () => {
    const nowMs = Date.now();
    if (lastSignalMs !== undefined && nowMs - lastSignalMs <= SAME_PRESS_MS) return;
    lastSignalMs = nowMs;
    if (!stop.signal.aborted) stop.abort();
    else if (!quitNow.signal.aborted) quitNow.abort();
    else process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const timeline =
    options.htmlFile !== undefined || options.dashboard !== undefined
      ? timelineFor(prepared.config)
      : undefined;
  let summary: string | undefined;
  const pageState = (recorded: RunTimeline) =>
    runPageState({
      timeline: recorded,
      options,
      configFile: prepared.configFile,
      nowMs: Date.now(),
      ...(summary !== undefined ? { summary } : {}),
    });
  let dashboard: LiveDashboard | undefined;
  let report: Awaited<ReturnType<typeof runLocalStack>>;
  try {
    if (options.dashboard && timeline) {
      dashboard = await startLiveDashboard({
        port: options.dashboard.port,
        state: () => pageState(timeline),
      });
      process.stdout.write(`dashboard: ${dashboard.url} (live while the run goes)\n`);
    }
    report = await runLocalStack(prepared, {
      signal: stop.signal,
      quitNow: quitNow.signal,
      ...(timeline ? { timeline } : {}),
    });
  } catch (error) {
    await dashboard?.stop();
    // A server that could not start says so in its own words (port, Java, output); no stack trace.
    return fail(error);
  }
  summary = summaryTable(report);
  process.stdout.write(`\n${summary}\n`);
  if (options.htmlFile && timeline) {
    writeReportPage(resolve(options.htmlFile), pageState(timeline));
    process.stdout.write(`report page: ${resolve(options.htmlFile)}\n`);
  }
  await dashboard?.stop();
  if (report.run.handlersLog) process.stdout.write(`handlers' logs: ${shortPath(report.run.handlersLog)}\n`);
  if (options.reportFile) {
    writeReport(resolve(options.reportFile), report);
    process.stdout.write(`report: ${resolve(options.reportFile)}\n`);
  }
  // The serve mode ends with Ctrl-C by design: its exit code is the run's verdict.
  if (stop.signal.aborted && !options.serve) return 130;
  return report.checks.ok ? 0 : 1;
}

function fail(error: unknown): number {
  if (
    error instanceof CliUsageError ||
    error instanceof InputFileError ||
    error instanceof LocalServerError
  ) {
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  throw error;
}

// Exits once the summary is written: on a pipe, an exit right after the write would cut it.
runCommand(
  () => main(process.argv.slice(2)),
  (error) => ({
    message: `npm start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    code: 1,
  }),
);
