import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HANDLERS_DIR, handlerCode } from '../../lib/constructs/handler-code';

/** An installed package's layout: compiled handlers (no .ts), bundles in dist/handlers. */
function installedLayout(bundled: boolean): {
  handlersDir: string;
  constructsDir: string;
  bundleDir: string;
} {
  const dist = mkdtempSync(join(tmpdir(), 'sluice-dist-'));
  const handlersDir = join(dist, 'lambda', 'handlers');
  const constructsDir = join(dist, 'lib', 'constructs');
  const bundleDir = join(dist, 'handlers', 'worker');
  mkdirSync(handlersDir, { recursive: true });
  mkdirSync(constructsDir, { recursive: true });
  writeFileSync(join(handlersDir, 'worker.js'), '');
  writeFileSync(join(handlersDir, 'worker.d.ts'), '');
  if (bundled) {
    mkdirSync(bundleDir, { recursive: true });
    writeFileSync(join(bundleDir, 'index.js'), '');
  }
  return { handlersDir, constructsDir, bundleDir };
}

describe('where a handler’s code comes from', () => {
  it('is the TypeScript source in the project’s tree (bundled at synth)', () => {
    expect(handlerCode('worker')).toEqual({ kind: 'source', entry: join(HANDLERS_DIR, 'worker.ts') });
  });

  it('is the bundle built with the package when only compiled JavaScript is installed', () => {
    const { handlersDir, constructsDir, bundleDir } = installedLayout(true);
    expect(handlerCode('worker', { handlersDir, constructsDir })).toEqual({
      kind: 'prebundled',
      directory: bundleDir,
    });
  });

  it('fails with what to do when the package was installed without its build', () => {
    const { handlersDir, constructsDir } = installedLayout(false);
    expect(() => handlerCode('worker', { handlersDir, constructsDir })).toThrow(
      /neither in the source tree .* nor pre-bundled .*npm run build:package/,
    );
  });
});
