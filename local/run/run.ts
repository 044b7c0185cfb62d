import { realDependencies } from '../aws/wiring';
import type { RunDependencies } from '../aws/wiring-types';
import type { RunReport } from '../report/report';
import { openRun, type RunIo } from './context';
import {
  collectReport,
  drainWithProgress,
  enqueueMessages,
  type RunServers,
  startServers,
  stopRun,
  wireRun,
} from './phases';
import type { PreparedRun } from './prepare';

/**
 * One run of the local stack, phase by phase: the servers start, the handlers are wired to
 * them, the messages are enqueued, the queue drains with progress, the report is collected.
 * Returns the report; the servers are stopped on every path.
 */
export async function runLocalStack(
  prepared: PreparedRun,
  io: RunIo,
  deps: RunDependencies = realDependencies,
): Promise<RunReport> {
  const run = openRun(prepared, io);
  const servers: RunServers = {};
  try {
    const started = await startServers(run, deps, servers);
    const wiring = await wireRun(run, started, deps);
    const enqueued = await enqueueMessages(run, started.stack, wiring);
    const end = await drainWithProgress(run, started.stack, wiring, enqueued);
    return await collectReport(run, started, wiring, enqueued, end);
  } finally {
    await stopRun(run, servers);
  }
}
