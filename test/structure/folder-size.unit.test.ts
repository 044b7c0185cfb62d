import { sourceFiles } from './imports';

/**
 * A source folder holds at most 15 files of its own: past that it is split by role
 * (lambda/worker/pipeline, policy, adapters, warm; lambda/sluice/core/plan; local/cli, local/aws,
 * local/run, local/report, ...; bench/stages, bench/report, ...), so a reader finds a file from
 * the folder's name.
 */
const MAX_OWN_FILES = 15;
const CHECKED = ['lambda', 'lib', 'bin', 'local', 'bench'];

/** How many of `files` each folder holds directly (a subfolder's files are its own). */
function ownFilesByFolder(files: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const file of files) {
    const folder = file.slice(0, file.lastIndexOf('/'));
    counts.set(folder, (counts.get(folder) ?? 0) + 1);
  }
  return counts;
}

describe('folder size', () => {
  it("counts a folder's own files, not its subfolders'", () => {
    const planted = ['local/main.ts', 'local/run/run.ts', 'local/run/phases.ts', 'local/run/sub/a.ts'];
    expect(Object.fromEntries(ownFilesByFolder(planted))).toEqual({
      local: 1,
      'local/run': 2,
      'local/run/sub': 1,
    });
  });

  it.each(CHECKED)(`%s: no folder holds more than ${MAX_OWN_FILES} source files of its own`, (area) => {
    const files = sourceFiles(area);
    expect(files.length).toBeGreaterThan(0);
    const crowded = [...ownFilesByFolder(files)]
      .filter(([, count]) => count > MAX_OWN_FILES)
      .map(([folder, count]) => `${folder}: ${count} files`);
    expect(crowded).toEqual([]);
  });
});
