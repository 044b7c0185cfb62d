import { type ImportLine, importsOf, sourceFiles } from './imports';

/**
 * Every dependency points one way: no file reaches itself through its imports, and no two
 * areas (a folder of lambda/ or lib/, or local/, bench/, bin/, scripts/) import each other.
 * Type-only imports count too: a loop of types is still a loop to read. And each Lambda's
 * handler imports only its own Lambda's wiring.
 */

const CHECKED = ['lambda', 'lib', 'local', 'bench', 'bin', 'scripts'];

/** The area a file belongs to: `lambda/worker`, `lib/constructs`, `local`, `bench`, … */
function areaOf(file: string): string {
  const parts = file.replace(/\.ts$/, '').split('/');
  return parts[0] === 'lambda' || parts[0] === 'lib' ? parts.slice(0, 2).join('/') : (parts[0] ?? file);
}

/** The import loops among `imports`, each as its files (strongly connected components, Tarjan). */
function loopsOf(imports: readonly ImportLine[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, target } of imports) {
    if (target === undefined || target === from) continue;
    next.set(from, [...(next.get(from) ?? []), target]);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const loops: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const target of next.get(file) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(file, Math.min(low.get(file)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(file, Math.min(low.get(file)!, index.get(target)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const loop: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      loop.push(member);
    } while (member !== file);
    if (loop.length > 1) loops.push(loop.sort());
  };
  for (const file of next.keys()) if (!index.has(file)) visit(file);
  return loops;
}

/** Pairs of areas that import each other, as `a <-> b`. */
function twoWayAreas(imports: readonly ImportLine[]): string[] {
  const edges = new Set<string>();
  for (const { from, target } of imports) {
    if (target === undefined) continue;
    const [a, b] = [areaOf(from), areaOf(target)];
    if (a !== b) edges.add(`${a} -> ${b}`);
  }
  return [...edges]
    .map((edge) => edge.split(' -> ') as [string, string])
    .filter(([a, b]) => a < b && edges.has(`${b} -> ${a}`))
    .map(([a, b]) => `${a} <-> ${b}`);
}

/**
 * Each Lambda's entry point (lambda/handlers/) and the one file it may import: its own Lambda's
 * wiring, at the top of that Lambda's area (the worker's pipeline, policy, adapters and warm
 * environment sit in folders below it). A handler stays thin and never reaches into its own
 * Lambda's parts or another Lambda's code, so what one Lambda bundles is what its wiring imports.
 */
const HANDLER_WIRING: Readonly<Record<string, string>> = {
  'lambda/handlers/worker.ts': 'lambda/worker/wire.ts',
  'lambda/handlers/reconciler.ts': 'lambda/reconciler/wire.ts',
  'lambda/handlers/dead-letter-relay.ts': 'lambda/relay/wire.ts',
  'lambda/handlers/seed-buckets.ts': 'lambda/seeding/seed-buckets.ts',
};

/** Every import of a handler other than its own Lambda's wiring, one line each. */
function handlerStrays(imports: readonly ImportLine[]): string[] {
  const found: string[] = [];
  for (const { from, specifier, target } of imports) {
    if (!from.startsWith('lambda/handlers/') || target === undefined) continue;
    const own = HANDLER_WIRING[from];
    if (own === undefined) {
      found.push(`${from}: a handler with no wiring of its own (name it in HANDLER_WIRING)`);
    } else if (target !== own) {
      found.push(`${from} imports ${specifier}: a handler imports only its own wiring (${own})`);
    }
  }
  return found;
}

const imports = CHECKED.flatMap(sourceFiles).flatMap(importsOf);

describe('every dependency points one way', () => {
  it('reads the import lines of every area', () => {
    const areas = new Set(imports.map((line) => areaOf(line.from)));
    for (const area of ['lambda/sluice', 'lambda/worker', 'lib/constructs', 'local', 'bench']) {
      expect(areas).toContain(area);
    }
  });

  it('has no import loop between files', () => {
    expect(loopsOf(imports)).toEqual([]);
  });

  it('has no two areas importing each other', () => {
    expect(twoWayAreas(imports)).toEqual([]);
  });

  it("has every handler import only its own Lambda's wiring", () => {
    const handlers = sourceFiles('lambda/handlers');
    expect(handlers.sort()).toEqual(Object.keys(HANDLER_WIRING).sort());
    expect(imports.filter((line) => line.from.startsWith('lambda/handlers/')).length).toBeGreaterThanOrEqual(
      4,
    );
    expect(handlerStrays(imports)).toEqual([]);
  });

  // The detectors themselves, on planted import lines.
  const line = (from: string, target: string): ImportLine => ({ from, specifier: target, target });

  it("finds a handler importing anything but its own Lambda's wiring", () => {
    const planted = [
      line('lambda/handlers/dead-letter-relay.ts', 'lambda/worker/wire.ts'),
      line('lambda/handlers/reconciler.ts', 'lambda/sluice/index.ts'),
      line('lambda/handlers/worker.ts', 'lambda/worker/pipeline/process-message.ts'),
      line('lambda/handlers/worker.ts', 'lambda/worker/wire.ts'),
      line('lambda/handlers/seed-buckets.ts', 'lambda/seeding/seed-buckets.ts'),
      line('lambda/handlers/new-lambda.ts', 'lambda/new/wire.ts'),
    ];
    expect(handlerStrays(planted)).toEqual([
      'lambda/handlers/dead-letter-relay.ts imports lambda/worker/wire.ts: a handler imports only its own wiring (lambda/relay/wire.ts)',
      'lambda/handlers/reconciler.ts imports lambda/sluice/index.ts: a handler imports only its own wiring (lambda/reconciler/wire.ts)',
      'lambda/handlers/worker.ts imports lambda/worker/pipeline/process-message.ts: a handler imports only its own wiring (lambda/worker/wire.ts)',
      'lambda/handlers/new-lambda.ts: a handler with no wiring of its own (name it in HANDLER_WIRING)',
    ]);
  });

  it('finds a planted loop of three files, and only the files in it', () => {
    const planted = [
      line('lib/a.ts', 'lib/b.ts'),
      line('lib/b.ts', 'lib/c.ts'),
      line('lib/c.ts', 'lib/a.ts'),
      line('lib/c.ts', 'lib/d.ts'),
    ];
    expect(loopsOf(planted)).toEqual([['lib/a.ts', 'lib/b.ts', 'lib/c.ts']]);
    expect(loopsOf(planted.slice(0, 2))).toEqual([]);
  });

  it('finds two areas that import each other through different files', () => {
    const planted = [line('local/run.ts', 'bench/meter.ts'), line('bench/drain.ts', 'local/report.ts')];
    expect(twoWayAreas(planted)).toEqual(['bench <-> local']);
    expect(twoWayAreas(planted.slice(0, 1))).toEqual([]);
  });
});
