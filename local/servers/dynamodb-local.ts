import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort } from './free-port';
import { type LocalServer, LocalServerError, spawnServer } from './process';

/** AWS's own DynamoDB Local 1.25, shipped inside the npm package amplify-dynamodb-simulator. */
export function dynamoDbLocalDir(): string {
  const pkg = require.resolve('amplify-dynamodb-simulator/package.json');
  return join(dirname(pkg), 'emulator');
}

export function assertJava(env: NodeJS.ProcessEnv = process.env): void {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8', env });
  if (probe.error || probe.status !== 0) {
    throw new LocalServerError(
      'Java was not found on PATH. DynamoDB Local needs a Java runtime 17 or newer: ' +
        'install it (Debian: `apt-get install openjdk-17-jre-headless`) and try again.',
    );
  }
}

/** Starts DynamoDB Local in memory on a free loopback port. */
export async function startDynamoDbLocal(port?: number): Promise<LocalServer> {
  assertJava();
  const dir = dynamoDbLocalDir();
  const jar = join(dir, 'DynamoDBLocal.jar');
  if (!existsSync(jar)) {
    throw new LocalServerError(`DynamoDB Local was not found at ${jar}; run \`npm ci\` first.`);
  }
  const chosen = port ?? (await freePort());
  return spawnServer({
    name: 'DynamoDB Local',
    command: 'java',
    args: [
      '-Xmx512m',
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-jar',
      jar,
      '-inMemory',
      '-disableTelemetry',
      '-port',
      String(chosen),
    ],
    // Its banner ends with the CORS line once the port is bound.
    endpoint: (out) => (/CorsParams:/.test(out) ? `http://127.0.0.1:${chosen}` : undefined),
    cwd: process.env.TMPDIR ?? '/tmp',
  });
}
