import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { SluiceError } from '../../lambda/sluice';

export interface LocalServer {
  readonly name: string;
  /** `http://127.0.0.1:<port>`, ready to serve. */
  readonly endpoint: string;
  readonly pid: number;
  stop(): Promise<void>;
}

const FATAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Kill switches of the servers still running in this process. */
const running = new Set<() => void>();
let watching = false;

/**
 * A signal's default action ends Node without its 'exit' event, which would orphan the
 * servers (each runs in its own process group): Ctrl-C on `npm test`, a CI timeout. When
 * nothing else handles the signal, kill them and let the signal end the process as it would
 * have. A host that handles the signal itself (npm start) stops them in its own way.
 */
function watchSignals(): void {
  if (watching) return;
  watching = true;
  for (const signal of FATAL_SIGNALS) {
    const onSignal = () => {
      if (process.listenerCount(signal) > 1) return;
      for (const kill of [...running]) kill();
      process.removeListener(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** A local server (DynamoDB Local, fauxqs) that could not be found, started or reached. */
export class LocalServerError extends SluiceError {
  override readonly name: string = 'LocalServerError';
}

/**
 * Spawns a server in its own process group, resolves once `isReady(output)` sees its
 * start-up line, and stops it (the whole group) with SIGTERM then SIGKILL. The group is
 * also killed when this process exits, so a crash leaves no orphan Java process behind.
 */
export function spawnServer(options: {
  name: string;
  command: string;
  args: string[];
  endpoint: (output: string) => string | undefined;
  startTimeoutMs?: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<LocalServer> {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const onExit = () => {
    killGroup('SIGKILL');
    process.removeListener('exit', onExit);
    running.delete(onExit);
  };
  process.once('exit', onExit);
  running.add(onExit);
  watchSignals();

  return new Promise<LocalServer>((resolve, reject) => {
    let output = '';
    let settled = false;
    const startTimeoutMs = options.startTimeoutMs ?? 30_000;
    const deadline = Date.now() + startTimeoutMs;
    const timer = setTimeout(() => fail(`did not start within ${startTimeoutMs} ms`), startTimeoutMs);
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      killGroup('SIGKILL');
      onExit();
      reject(new LocalServerError(`${options.name} ${why}. Output:\n${output.slice(-2000)}`));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const endpoint = options.endpoint(output);
      if (endpoint && !settled) {
        settled = true;
        child.stdout?.removeAllListeners('data');
        child.stderr?.removeAllListeners('data');
        child.stdout?.resume();
        child.stderr?.resume();
        // A banner can precede the bound port: only a TCP connection proves readiness.
        waitForPort(endpoint, deadline).then(
          () => {
            clearTimeout(timer);
            resolve({
              name: options.name,
              endpoint,
              pid: child.pid ?? 0,
              stop: () => stopChild(child, killGroup, onExit),
            });
          },
          () => {
            settled = false;
            fail(`printed its start-up line but never accepted connections on ${endpoint}`);
          },
        );
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (error) => fail(`could not be started (${error.message})`));
    child.on('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
  });
}

function stopChild(
  child: ChildProcess,
  killGroup: (signal: NodeJS.Signals) => void,
  onExit: () => void,
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    onExit();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const hard = setTimeout(() => killGroup('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(hard);
      onExit();
      resolve();
    });
    killGroup('SIGTERM');
  });
}

function canConnect(endpoint: string): Promise<boolean> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForPort(endpoint: string, deadlineMs: number): Promise<void> {
  while (!(await canConnect(endpoint))) {
    if (Date.now() > deadlineMs) throw new LocalServerError(`${endpoint} refused connections`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export { canConnect };
