import { join } from 'node:path';
import { type LocalServer, spawnServer } from './process';

/** Starts fauxqs 1.x (SQS, JSON protocol) on a free loopback port in a child process. */
export function startFauxqs(port = 0): Promise<LocalServer> {
  return spawnServer({
    name: 'fauxqs',
    command: process.execPath,
    args: [join(__dirname, 'fauxqs-child.mjs')],
    endpoint: (out) => /FAUXQS_READY (\S+)/.exec(out)?.[1],
    startTimeoutMs: 15_000,
    env: { FAUXQS_PORT: String(port) },
  });
}
