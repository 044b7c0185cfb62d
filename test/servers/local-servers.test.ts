import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { assertJava, startDynamoDbLocal } from '../../local/servers/dynamodb-local';
import { startFauxqs } from '../../local/servers/fauxqs';
import { canConnect } from '../../local/servers/process';

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `probe` until every value is false, for at most 5 s; returns the last reading. */
async function eventually(probe: () => boolean[]): Promise<boolean[]> {
  for (let i = 0; i < 50; i++) {
    const reading = probe();
    if (reading.every((alive) => !alive)) return reading;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return probe();
}

describe('local servers', () => {
  it('starts DynamoDB Local on a free loopback port and leaves neither process nor port behind', async () => {
    const server = await startDynamoDbLocal();
    try {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const answer = await fetch(server.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request',
        },
        body: '{}',
      });
      expect(await answer.json()).toEqual({ TableNames: [] });
    } finally {
      await server.stop();
    }
    expect(processExists(server.pid)).toBe(false);
    expect(await canConnect(server.endpoint)).toBe(false);
  });

  it('starts fauxqs speaking the SQS JSON protocol and stops it cleanly', async () => {
    const server = await startFauxqs();
    try {
      const answer = await fetch(server.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
        body: '{}',
      });
      expect(answer.status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(processExists(server.pid)).toBe(false);
    expect(await canConnect(server.endpoint)).toBe(false);
  });

  it('takes its servers down when the process that started them is ended by a signal', async () => {
    const holder = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'hold-servers.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pids = await new Promise<number[]>((resolve, reject) => {
      let out = '';
      holder.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /PIDS (\d+) (\d+)/.exec(out);
        if (match) resolve([Number(match[1]), Number(match[2])]);
      });
      holder.once('exit', (code) => reject(new Error(`holder exited early with ${code}: ${out}`)));
    });
    expect(pids.map(processExists)).toEqual([true, true]);

    const exited = new Promise((resolve) => holder.once('exit', (_code, signal) => resolve(signal)));
    holder.kill('SIGTERM');
    expect(await exited).toBe('SIGTERM');
    // SIGKILL is sent before the holder ends; the kernel takes a moment to reap the group.
    expect(await eventually(() => pids.map(processExists))).toEqual([false, false]);
  });

  it('says what to install when Java is missing', () => {
    expect(() => assertJava({ PATH: '/nonexistent' })).toThrow(
      'Java was not found on PATH. DynamoDB Local needs a Java runtime 17 or newer: ' +
        'install it (Debian: `apt-get install openjdk-17-jre-headless`) and try again.',
    );
  });
});
