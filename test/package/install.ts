import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export const PROJECT_ROOT = path.join(__dirname, '..', '..');
export const EXAMPLE_DIR = path.join(PROJECT_ROOT, 'examples', 'second-product');

/** Runs a command to completion; a non-zero exit throws with everything it printed. */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** The same, without blocking the test's event loop (the worker runs meanwhile). */
export function runAsync(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stdout}\n${stderr}`));
    });
  });
}

/** `npm pack` of the project (its prepack builds dist/); returns the tarball's path. */
export function packProject(destination: string): string {
  run('npm', ['pack', '--pack-destination', destination, '--silent'], PROJECT_ROOT);
  const tarballs = readdirSync(destination).filter((file) => file.endsWith('.tgz'));
  if (tarballs.length !== 1)
    throw new Error(`expected one tarball in ${destination}, found ${tarballs.join(', ')}`);
  return path.join(destination, tarballs[0]!);
}

/**
 * A copy of the example whose `sluice-aws` is the packed tarball (a `file:` dependency), with a
 * lock file holding the project's locked versions of everything else. `npm install --offline`
 * then needs nothing but the npm cache, which installing the project (npm ci or npm install
 * from its lock file) has filled with exactly those versions: no network.
 */
export function prepareExampleCopy(tarball: string, destination: string): string {
  cpSync(EXAMPLE_DIR, destination, {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|dist|cdk\.out)$/.test(source),
  });
  const manifest = JSON.parse(readFileSync(path.join(destination, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  manifest.dependencies['sluice-aws'] = `file:${path.relative(destination, tarball)}`;
  writeFileSync(path.join(destination, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const lock = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, unknown>;
  };
  const { '': _project, ...locked } = lock.packages;
  const root = {
    name: manifest.name,
    version: manifest.version,
    dependencies: manifest.dependencies,
    devDependencies: manifest.devDependencies,
  };
  writeFileSync(
    path.join(destination, 'package-lock.json'),
    JSON.stringify({
      ...lock,
      name: manifest.name,
      version: manifest.version,
      packages: { '': root, ...locked },
    }),
  );
  return destination;
}

export function installOffline(appDir: string): void {
  try {
    // Scripts stay off: the only one (esbuild's postinstall) merely checks its binary.
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], appDir);
  } catch (error) {
    if (!/ENOTCACHED/.test((error as Error).message)) throw error;
    throw new Error(
      'The npm cache lacks a locked package, and this test never uses the network: install the ' +
        `project from its lock file first (npm ci or npm install) so npm caches every tarball.\n${(error as Error).message}`,
    );
  }
}
