import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { SluiceError } from '../../lambda/sluice';

/** Handlers live in lambda/handlers; lib/ only names the files, it never imports them. */
export const HANDLERS_DIR = path.join(__dirname, '..', '..', 'lambda', 'handlers');

/** Every handler a Sluice construct deploys, by file name without `.ts`. */
export const PREBUNDLED_HANDLERS = ['worker', 'reconciler', 'seed-buckets', 'dead-letter-relay'] as const;
export type SluiceHandlerName = (typeof PREBUNDLED_HANDLERS)[number];

/**
 * Where the package build puts a handler's bundle: `dist/handlers/<name>/index.js`, two levels
 * above the compiled constructs (`dist/lib/constructs`).
 */
export function prebundledHandlerDir(constructsDir: string, name: SluiceHandlerName): string {
  return path.join(constructsDir, '..', '..', 'handlers', name);
}

/**
 * How a handler's code reaches Lambda. In the project's source tree the TypeScript handler is
 * there and local esbuild bundles it at synth (`source`). In an installed package only the
 * compiled JavaScript is, and the build has already bundled each handler (`prebundled`), so
 * the consuming app needs neither esbuild nor Docker.
 */
export type HandlerCode =
  | { readonly kind: 'source'; readonly entry: string }
  | { readonly kind: 'prebundled'; readonly directory: string };

export function handlerCode(
  name: SluiceHandlerName,
  where: { readonly handlersDir?: string; readonly constructsDir?: string } = {},
): HandlerCode {
  const entry = path.join(where.handlersDir ?? HANDLERS_DIR, `${name}.ts`);
  if (existsSync(entry)) return { kind: 'source', entry };
  const directory = prebundledHandlerDir(where.constructsDir ?? __dirname, name);
  if (!existsSync(path.join(directory, 'index.js'))) {
    throw new SluiceError(
      `Sluice handler ${name} is neither in the source tree (${entry}) nor pre-bundled (${directory}/index.js): ` +
        'build the package with `npm run build:package` (npm pack does it).',
    );
  }
  return { kind: 'prebundled', directory };
}
