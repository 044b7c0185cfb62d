/**
 * The SDK's layers and its one entrance, read from the import lines themselves (TypeScript's
 * `preProcessFile`, no compilation): docs/design.md, "How the SDK is layered".
 */
import { type ImportLine, importsOf, sourceFiles } from './imports';

const SDK = 'lambda/sluice';
const ENTRANCE = `${SDK}/index.ts`;
/**
 * The error family alone: a leaf (it imports nothing inside the SDK), so a light caller such as
 * the producer gets `SluiceError` and the one issue formatter without loading the DynamoDB client.
 */
const ERRORS = `${SDK}/errors.ts`;

/** Where each layer may import from, inside the SDK (paths relative to the repository). */
const MAY_IMPORT: Record<Layer, (target: string) => boolean> = {
  core: (t) => t.startsWith(`${SDK}/core/`) || t === `${SDK}/errors.ts`,
  store: (t) => t.startsWith(`${SDK}/store/`) || t.startsWith(`${SDK}/core/`) || t === `${SDK}/errors.ts`,
  ops: (t) =>
    t.startsWith(`${SDK}/ops/`) ||
    t.startsWith(`${SDK}/core/`) ||
    t === `${SDK}/store/bucket-store.ts` ||
    t === `${SDK}/errors.ts`,
  // The public surface at the root wires the layers together.
  root: (t) => t.startsWith(`${SDK}/`),
};

type Layer = 'core' | 'store' | 'ops' | 'root';

function layerOf(file: string): Layer {
  const [first, ...rest] = file.slice(SDK.length + 1).split('/');
  return rest.length > 0 && (first === 'core' || first === 'store' || first === 'ops') ? first : 'root';
}

const inSdk = (file: string) => file.startsWith(`${SDK}/`);

/** Every rule break among `imports`, one line each. */
function violations(imports: readonly ImportLine[]): string[] {
  const found: string[] = [];
  for (const { from, specifier, target } of imports) {
    if (inSdk(from)) {
      if (target === undefined) continue; // an npm package
      if (from === ERRORS) {
        found.push(`${from} imports ${specifier}: the error family is a leaf, importing nothing of the SDK`);
      } else if (!inSdk(target)) {
        found.push(
          `${from} imports ${specifier}: outside the SDK (the SDK stands alone as the package's root)`,
        );
      } else if (!MAY_IMPORT[layerOf(from)](target)) {
        found.push(`${from} imports ${specifier}: ${layerOf(from)}/ may not import ${target}`);
      }
    } else if (
      target !== undefined &&
      inSdk(target) &&
      target !== ENTRANCE &&
      target !== ERRORS &&
      !from.startsWith('test/sluice/')
    ) {
      found.push(
        `${from} imports ${specifier}: outside the SDK, import its entrance (${ENTRANCE}, or ${ERRORS} for the error family alone)`,
      );
    }
  }
  return found;
}

const CHECKED = ['lambda', 'lib', 'local', 'bench', 'bin', 'scripts', 'examples', 'test'];
const files = CHECKED.flatMap(sourceFiles);
const imports = files.flatMap(importsOf);

describe('the SDK in layers with one entrance', () => {
  it('finds the SDK and each of its layers', () => {
    const layers = new Set(files.filter(inSdk).map(layerOf));
    expect([...layers].sort()).toEqual(['core', 'ops', 'root', 'store']);
    expect(files).toContain(ENTRANCE);
  });

  it('has no layer importing upward, no SDK file importing from outside it, and no way in but the entrance', () => {
    expect(violations(imports)).toEqual([]);
  });

  it('has code outside the SDK that uses it, all through the entrance', () => {
    const outside = imports.filter((i) => !inSdk(i.from) && i.target !== undefined && inSdk(i.target));
    expect(outside.length).toBeGreaterThan(10);
  });

  // The rules themselves, on planted import lines: each kind of break is caught.
  it.each([
    ['core imports ops', `${SDK}/core/bucket-math.ts`, '../ops/acquire', `${SDK}/ops/acquire.ts`],
    ['core imports store', `${SDK}/core/model.ts`, '../store/bucket-store', `${SDK}/store/bucket-store.ts`],
    ['core imports the root', `${SDK}/core/dimensions.ts`, '../config', `${SDK}/config.ts`],
    ['store imports ops', `${SDK}/store/memory-store.ts`, '../ops/context', `${SDK}/ops/context.ts`],
    [
      'ops imports an adapter',
      `${SDK}/ops/acquire.ts`,
      '../store/dynamo-store',
      `${SDK}/store/dynamo-store.ts`,
    ],
    ['the SDK imports the contract', `${SDK}/client.ts`, '../contract', 'lambda/contract.ts'],
    ['the worker skips the entrance', 'lambda/worker/wire.ts', '../sluice/client', `${SDK}/client.ts`],
    ['a script skips the entrance', 'scripts/x.ts', '../lambda/sluice/core/model', `${SDK}/core/model.ts`],
    ['the error family imports the SDK', ERRORS, './core/types', `${SDK}/core/types.ts`],
  ])('catches: %s', (_, from, specifier, target) => {
    expect(violations([{ from, specifier, target }])).toHaveLength(1);
  });

  it.each([
    ['core imports errors', `${SDK}/core/limit-types.ts`, '../errors', `${SDK}/errors.ts`],
    [
      'ops imports the store interface',
      `${SDK}/ops/items.ts`,
      '../store/bucket-store',
      `${SDK}/store/bucket-store.ts`,
    ],
    [
      'the root imports an adapter',
      `${SDK}/client.ts`,
      './store/dynamo-store',
      `${SDK}/store/dynamo-store.ts`,
    ],
    ['the SDK imports a package', `${SDK}/config.ts`, 'zod', undefined],
    ['the worker imports the entrance', 'lambda/worker/wire.ts', '../sluice', ENTRANCE],
    ['the producer imports the error family alone', 'lambda/producer/enqueue.ts', '../sluice/errors', ERRORS],
    [
      "a test of the SDK's internals",
      'test/sluice/x.unit.test.ts',
      '../../lambda/sluice/core/model',
      `${SDK}/core/model.ts`,
    ],
  ])('allows: %s', (_, from, specifier, target) => {
    expect(violations([{ from, specifier, target }])).toEqual([]);
  });
});
