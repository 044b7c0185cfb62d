import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('bin/sluice.ts', () => {
  it('prints every configuration problem, without a stack trace, and exits 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-bin-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ stage: 'Dev', buckets: [] }));
    // The CDK CLI hands context to the app this way.
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'bin/sluice.ts'], {
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ 'sluice:configFile': file }),
        CDK_OUTDIR: dir,
      },
      encoding: 'utf8',
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({
      status: 1,
      stderr: [
        'Invalid stack configuration (4 problems):',
        `  ${file}: stage: must be 1-20 lowercase letters, digits or dashes (got "Dev")`,
        `  ${file}: vendorSecretName: is required`,
        `  ${file}: buckets: needs at least one bucket (got [])`,
        `  ${file}: vendor: is required`,
        '',
      ].join('\n'),
    });
  });
});
