import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { PREBUNDLED_HANDLERS, prebundledHandlerDir } from '../lib/constructs/handler-code';

/**
 * Pre-bundles every Lambda handler into dist/handlers/<name>/index.js when the package is
 * built (prepack), with the same esbuild options SluiceFunction uses from source, so an app
 * that installs the package deploys the worker without esbuild or Docker of its own.
 */
const root = path.join(__dirname, '..');
for (const name of PREBUNDLED_HANDLERS) {
  const outdir = prebundledHandlerDir(path.join(root, 'dist', 'lib', 'constructs'), name);
  rmSync(outdir, { recursive: true, force: true });
  buildSync({
    entryPoints: [path.join(root, 'lambda', 'handlers', `${name}.ts`)],
    outfile: path.join(outdir, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    // The SDK's ES module builds tree-shake far better than its CommonJS ones.
    mainFields: ['module', 'main'],
    logLevel: 'warning',
  });
}
console.log(`bundled ${PREBUNDLED_HANDLERS.length} handlers into dist/handlers`);
