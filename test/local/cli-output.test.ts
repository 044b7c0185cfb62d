import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The commands' output reaches a reader on a pipe whole: `npm run bench -- --json | jq` must
 * get the JSON object, not its first 64 KiB (the pipe's buffer), which is what an exit right
 * after the write left. Each case runs a shell pipeline as a user would, the reader a child
 * process that parses stdin; the reader waits a little before reading, so the writer has to
 * wait for it.
 */
const root = join(__dirname, '..', '..');
const tsx = join(root, 'node_modules', '.bin', 'tsx');
const PIPE_BUFFER = 64 * 1024;

/** Reads stdin after a pause, parses it, prints what it got (or exits 1 with the parse error). */
const READER = `
setTimeout(() => {
  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c)).on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      process.stdout.write(JSON.stringify({ bytes: Buffer.byteLength(text), value: JSON.parse(text) }));
    } catch (error) {
      process.stderr.write('bytes ' + Buffer.byteLength(text) + ': ' + error.message);
      process.exit(1);
    }
  });
}, 300);`;

function throughPipe(command: string): {
  status: number | null;
  bytes: number;
  value: unknown;
  stderr: string;
} {
  const reader = `${JSON.stringify(process.execPath)} -e ${shellQuote(READER)}`;
  const run = spawnSync('bash', ['-o', 'pipefail', '-c', `${command} | ${reader}`], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  const parsed = run.status === 0 ? (JSON.parse(run.stdout) as { bytes: number; value: unknown }) : undefined;
  return { status: run.status, bytes: parsed?.bytes ?? 0, value: parsed?.value, stderr: run.stderr };
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

describe('a command printing JSON to a pipe', () => {
  it('hands over a large object (1 MiB) whole, with a handle still open, and keeps its exit code', () => {
    const fixture = join(__dirname, 'fixtures', 'print-json.ts');
    const run = throughPipe(`${tsx} ${fixture} 1048576 3`);
    expect(run.stderr).toContain('a line a dependency printed on stdout');
    expect(run.status).toBe(3);
    const whole = throughPipe(`${tsx} ${fixture} 1048576 0`);
    expect(whole.status).toBe(0);
    expect(whole.bytes).toBeGreaterThan(1024 * 1024);
    expect((whole.value as { rows: unknown[] }).rows).toHaveLength(10486);
  });

  it('npm run bench -- --saved --json: stdout is the saved runs, whole, and nothing else', () => {
    const run = throughPipe(`${tsx} bench/run.ts --saved --json`);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const dir = join(root, 'bench', 'results');
    const saved = Object.fromEntries(
      readdirSync(dir)
        .filter((name) => name.endsWith('.json'))
        .sort()
        .map((name) => [name.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, name), 'utf8'))]),
    );
    // Larger than the pipe's buffer, or the case could not tell a cut from a whole output.
    expect(run.bytes).toBeGreaterThan(PIPE_BUFFER);
    expect(run.value).toEqual(saved);
  });
});
