import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect } from '../../local/servers/process';

const root = join(__dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'sluice-main-'));
/** As `npm start` runs it: one node process with tsx's loader, so a Ctrl-C reaches it once. */
const START = ['--import', 'tsx', join(root, 'local', 'main.ts')];

/** `npm start -- ...args` as a child process; these cases all end before any server starts. */
function npmStart(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(process.execPath, [...START, ...args], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm start, before any server starts', () => {
  it('prints the options with --help and exits 0', () => {
    const run = npmStart(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: npm start -- [options]');
    expect(run.stdout).toContain('--messages FILE');
  });

  it('names the malformed line of a --messages file and exits 2', () => {
    const file = join(dir, 'messages.jsonl');
    writeFileSync(file, '{"id":"a","operation":"createVisit","params":{"locationId":"l"}}\nnot json\n');
    const run = npmStart(['--messages', file]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      `Invalid messages file (1 problem):\n  ${file}:2: not valid JSON (Unexpected token 'o', "not json" is not valid JSON)\n`,
    );
  });

  it('checks every message against the producer contract, naming the line', () => {
    const file = join(dir, 'contract.jsonl');
    writeFileSync(file, '{"id":"x","operation":"createVisit","tokens":5}\n{"id":"y","method":"POST"}\n');
    const run = npmStart(['--messages', file]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'Invalid messages file (2 problems):\n' +
        `  ${file}:1: tokens: is not a known field\n` +
        `  ${file}:2: path: is required with method\n`,
    );
  });

  it('names a missing --config file and exits 2', () => {
    const run = npmStart(['--config', join(dir, 'missing.json')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`--config ${join(dir, 'missing.json')}: cannot read the file (no such file)\n`);
  });

  it('refuses a --profile that does not match the configuration, before any server starts', () => {
    const run = npmStart(['--config', 'config/local-openai.json', '--profile', 'waitwhile']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'Cannot run:\n  --profile waitwhile starts the simulator as waitwhile, but config/local-openai.json configures vendor "openai": leave out --profile (it follows the configuration) or give a configuration for waitwhile\n',
    );
  });

  it('refuses a message the worker would dead-letter at once, naming file:line', () => {
    const file = join(dir, 'unknown-operation.jsonl');
    const big = JSON.stringify({
      id: 'big',
      operation: 'createVisit',
      params: { locationId: 'l' },
      body: { note: 'x'.repeat(1_000_000) },
    });
    writeFileSync(
      file,
      `{"id":"a","operation":"createVisit","params":{"locationId":"l"}}\n{"id":"b","operation":"noSuchOperation"}\n${big}\n`,
    );
    const run = npmStart(['--messages', file]);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `^Invalid messages file \\(2 problems\\):\\n  ${file}:2: operation "noSuchOperation" is not configured \\(known: createVisit, getLocation\\)\\n  ${file}:3: \\(message\\): is 10000\\d\\d bytes as JSON, over the 262016 bytes SQS takes`,
      ),
    );
  });

  it('checks the --report folder before the run, not after it', () => {
    const run = npmStart(['--report', '/nonexistent/dir/r.json']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      '--report /nonexistent/dir/r.json: cannot write the report (the folder /nonexistent/dir does not exist)\n',
    );
  });

  it('says what to install when Java is missing', () => {
    const run = npmStart(['--count', '5'], { ...process.env, PATH: '/nonexistent' });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'Java was not found on PATH. DynamoDB Local needs a Java runtime 17 or newer: ' +
        'install it (Debian: `apt-get install openjdk-17-jre-headless`) and try again.\n',
    );
  });
});

/**
 * A child `npm start` whose output is read as it comes: `until` waits for a state of the
 * output (never for a moment), `ended` for the exit code once every byte of output is read
 * ('close', not 'exit', which can come before the last chunk of a loaded machine's pipe).
 */
function startChild(args: string[]) {
  const child = spawn(process.execPath, [...START, ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters: { test: (text: string) => boolean; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of [...waiters])
      if (waiter.test(output)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const ended = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    ended,
    until: (test: (text: string) => boolean) =>
      test(output) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ test, resolve })),
  };
}

const SERVERS = /DynamoDB Local (\S+) · fauxqs (\S+) · vendor (\S+)/;

describe('npm start, interrupted', () => {
  it('stops on Ctrl-C with exit code 130, reports unfinished messages pending and leaves no server port open', async () => {
    const run = startChild(['--count', '200']);
    await run.until((text) => SERVERS.test(text) && text.includes('enqueued 200 messages'));
    const endpoints = (SERVERS.exec(run.output()) ?? []).slice(1, 4);
    run.child.kill('SIGINT');

    expect(await run.ended).toBe(130);
    expect(run.output()).toContain('stopping: the running invocation finishes, then the servers stop');
    expect(run.output()).toMatch(/INCOMPLETE: interrupted with \d+ message\(s\) still pending on the queue/);
    expect(run.output()).toContain("handlers' logs: .sluice-local/handlers.log");
    expect(await Promise.all(endpoints.map(canConnect))).toEqual([false, false, false]);
  });
});

describe('npm start, a second Ctrl-C', () => {
  it('abandons an invocation stuck on a vendor that never answers and still prints the summary', async () => {
    let called: () => void = () => {};
    const firstCall = new Promise<void>((resolve) => {
      called = resolve;
    });
    const silent = createServer(() => called()); // takes the request, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const run = startChild(['--vendor-url', url, '--count', '5']);
      await firstCall;
      run.child.kill('SIGINT');
      await run.until((text) => text.includes('stopping: the running invocation finishes'));
      // Signals closer than half a second count as one key press: this is a second one.
      await new Promise((resolve) => setTimeout(resolve, 600));
      run.child.kill('SIGINT');

      expect(await run.ended).toBe(130);
      expect(run.output()).toContain('stopping now: the running invocation is abandoned');
      expect(run.output()).toMatch(/result {2,}INCOMPLETE: interrupted with 5 message\(s\) still pending/);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('npm start -- --serve', () => {
  it('prints an enqueue command that works, shows the message arrive and finish, and counts it on Ctrl-C', async () => {
    const run = startChild(['--serve']);
    await run.until((text) => /npm run enqueue -- work\.jsonl .+\n/.test(text));
    const command = /npm run enqueue -- work\.jsonl (.+)\n/.exec(run.output())?.[1] ?? '';
    const file = join(dir, 'work.jsonl');
    writeFileSync(
      file,
      '{"id":"from-outside","product":"checkout","operation":"createVisit","params":{"locationId":"loc-1"}}\n',
    );

    // The printed command, as a user would paste it: a separate process, no credentials or region set.
    const env = { ...process.env };
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION', 'AWS_PROFILE'])
      delete env[name];
    const enqueued = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'local', 'cli', 'enqueue.ts'), file, ...command.split(' ')],
      { cwd: root, env, encoding: 'utf8', timeout: 30_000 },
    );
    expect(enqueued.stderr).toBe('');
    expect(enqueued.status).toBe(0);

    await run.until((text) => text.includes('✓ from-outside completed'));
    expect(run.output()).toContain('→ from-outside received');
    run.child.kill('SIGINT');

    expect(await run.ended).toBe(0);
    expect(run.output()).toMatch(/messages {2,}1 \(1 from producers\)/);
    expect(run.output()).toMatch(/completed {2,}1\n/);
    expect(run.output()).toContain('OK: nothing lost, nothing completed twice');
  });
});
