import { join } from 'node:path';
import type { StackConfig } from '../../lib/config';
import { type DerivedSettings, deriveSettings } from '../../lib/derived-settings';
import type { CliOptions } from '../cli/options';
import { ProgressPrinter } from '../cli/progress';
import { shortPath } from '../cli/serve';
import { Tally } from '../report/tally';
import type { RunTimeline } from '../timeline/recorder';
import { type CapturedOutput, captureProcessOutput } from './log-capture';
import type { PreparedRun } from './prepare';

/** How the caller (`npm start`, a test) steers a run and what it observes. */
export interface RunIo {
  /** Stop after the running invocation (the first Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Stop now: abandon the running invocation, its messages stay on the queue (the second Ctrl-C). */
  readonly quitNow?: AbortSignal;
  readonly logFile?: string;
  readonly nowMs?: () => number;
  /** Records the run second by second for the report page (`--html`, `--dashboard`). */
  readonly timeline?: RunTimeline;
}

/** What every phase of one run shares: its inputs, its clock, its counts and where it prints. */
export interface RunContext {
  readonly prepared: PreparedRun;
  readonly options: CliOptions;
  readonly config: StackConfig;
  readonly derived: DerivedSettings;
  readonly io: RunIo;
  readonly now: () => number;
  readonly tally: Tally;
  readonly timeline: RunTimeline | undefined;
  /** The handlers' log, where the process's own output goes while the run lasts. */
  readonly logFile: string;
  readonly captured: CapturedOutput;
  readonly printer: ProgressPrinter;
}

/**
 * Before any server starts: the process's output goes to the handlers' log, the progress
 * printer to the terminal, and the run's notes (what was scaled down, and why) are printed.
 */
export function openRun(prepared: PreparedRun, io: RunIo): RunContext {
  const { options, config } = prepared;
  const now = io.nowMs ?? Date.now;
  const logFile = io.logFile ?? join(process.cwd(), '.sluice-local', 'handlers.log');
  const timeline = io.timeline;
  const captured = captureProcessOutput({
    file: logFile,
    ...(timeline ? { onLine: (line: string) => timeline.onLogLine(line, now()) } : {}),
  });
  const printer = new ProgressPrinter(captured.terminal, { quiet: options.quiet });
  for (const note of prepared.notes) printer.log(note);
  printer.log(`handlers' logs (JSON lines, as CloudWatch gets them): ${shortPath(logFile)}`);
  io.signal?.addEventListener('abort', () =>
    printer.log(
      'stopping: the running invocation finishes, then the servers stop (Ctrl-C again to stop it now)',
    ),
  );
  const derived = deriveSettings(config);
  return {
    prepared,
    options,
    config,
    derived,
    io,
    now,
    tally: new Tally(),
    timeline,
    logFile,
    captured,
    printer,
  };
}
