import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect } from '../../local/servers/process';

const root = join(__dirname, '..', '..');
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const dir = mkdtempSync(join(tmpdir(), 'sluice-main-'));

/** `npm start -- ...args` as a child process; these cases all end before any server starts. */
function npmStart(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(process.execPath, [tsx, join(root, 'local', 'main.ts'), ...args], {
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
        `  ${file}:1: (message): Unrecognized key: "tokens"\n` +
        `  ${file}:2: path: is required with method\n`,
    );
  });

  it('names a missing --config file and exits 2', () => {
    const run = npmStart(['--config', join(dir, 'missing.json')]);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(`--config ${join(dir, 'missing.json')}: cannot read the file (no such file)\n`);
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

describe('npm start, interrupted', () => {
  it('stops on Ctrl-C with exit code 130 and leaves no server port open', async () => {
    const child = spawn(process.execPath, [tsx, join(root, 'local', 'main.ts'), '--count', '200'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const endpoints = await new Promise<string[]>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const servers = /DynamoDB Local (\S+) · fauxqs (\S+) · vendor (\S+)/.exec(output);
        if (servers && output.includes('enqueued 200 messages')) resolve(servers.slice(1, 4));
      });
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');

    expect(await exited).toBe(130);
    expect(output).toContain('stopping: the running invocation finishes, then the servers stop');
    expect(output).toContain('FAILED: interrupted before');
    expect(await Promise.all(endpoints.map(canConnect))).toEqual([false, false, false]);
  });
});
