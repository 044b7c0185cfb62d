import { type ImportLine, importsOf, sourceFiles } from './imports';

/**
 * Every dependency points one way: no file reaches itself through its imports, and no two
 * areas (a folder of lambda/ or lib/, or local/, bench/, bin/, scripts/) import each other.
 * Type-only imports count too: a loop of types is still a loop to read.
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

  // The detectors themselves, on planted import lines.
  const line = (from: string, target: string): ImportLine => ({ from, specifier: target, target });

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
