/**
 * The project's import lines, read with TypeScript's `preProcessFile` (no compilation): the
 * structure tests check which way dependencies point from these.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

export const ROOT = resolve(__dirname, '../..');

/** One import line: the file it is in, what it names, and the repository file it resolves to (relative imports only). */
export interface ImportLine {
  readonly from: string;
  readonly specifier: string;
  /** Undefined for a package (`zod`, `node:fs`, `@aws-sdk/...`). */
  readonly target: string | undefined;
}

/** Every TypeScript source file under `dir` (repository-relative paths). */
export function sourceFiles(dir: string): string[] {
  const absolute = join(ROOT, dir);
  if (!existsSync(absolute)) return [];
  return readdirSync(absolute).flatMap((entry) => {
    if (entry === 'node_modules' || entry === 'cdk.out' || entry === 'dist' || entry.startsWith('.'))
      return [];
    const path = `${dir}/${entry}`;
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry) && !entry.endsWith('.d.ts') ? [path] : [];
  });
}

/** The repository file a relative import resolves to; undefined for a package. */
export function resolveTarget(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(ROOT, dirname(from), specifier).replace(/\.js$/, '');
  for (const candidate of [`${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) {
    if (existsSync(candidate)) return relative(ROOT, candidate).split(sep).join('/');
  }
  return relative(ROOT, base).split(sep).join('/');
}

/** The import lines of one file. */
export function importsOf(file: string): ImportLine[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, file), 'utf8'), true, true);
  return info.importedFiles.map(({ fileName }) => ({
    from: file,
    specifier: fileName,
    target: resolveTarget(file, fileName),
  }));
}
