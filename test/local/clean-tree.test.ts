import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const script = join(__dirname, '..', '..', '.ci', 'clean-tree');

function git(dir: string, ...args: string[]): void {
  const result = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
}

function cleanTree(dir: string) {
  const result = spawnSync(script, [dir], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout };
}

/** A repository with one committed file and a .gitignore, as the project has. */
function repository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'clean-tree-'));
  git(dir, 'init', '-q');
  writeFileSync(join(dir, 'package-lock.json'), '{}\n');
  writeFileSync(join(dir, '.gitignore'), 'test-results.json\n');
  git(dir, 'add', '.');
  git(dir, '-c', 'user.name=ci', '-c', 'user.email=ci@example.com', 'commit', '-qm', 'initial');
  return dir;
}

describe('the CI step that checks the tree after install and test', () => {
  it('passes a tree as committed, git-ignored files included', () => {
    const dir = repository();
    writeFileSync(join(dir, 'test-results.json'), '{}\n');
    expect(cleanTree(dir)).toEqual({ status: 0, stdout: 'the tree is clean\n' });
  });

  it('fails and names a rewritten lock file and a file left behind', () => {
    const dir = repository();
    writeFileSync(join(dir, 'package-lock.json'), '{"rewritten":true}\n');
    writeFileSync(join(dir, 'leftover.json'), '{}\n');
    expect(cleanTree(dir)).toEqual({
      status: 1,
      stdout:
        '!!! the tree is not clean after install and test (commit, remove or git-ignore these):\n' +
        ' M package-lock.json\n' +
        '?? leftover.json\n',
    });
  });
});
