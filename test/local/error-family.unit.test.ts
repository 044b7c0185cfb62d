import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBenchOptions } from '../../bench/options';
import { SluiceConfigError, SluiceError } from '../../lambda/sluice';
import { parseArguments } from '../../local/cli/enqueue';
import { InputFileError, loadConfigFile } from '../../local/cli/inputs';
import { parseCliOptions } from '../../local/cli/options';
import { CliUsageError } from '../../local/cli/usage';

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('the errors of the command lines', () => {
  it('npm start, npm run enqueue and npm run bench refuse their arguments with the one CliUsageError', () => {
    const refusals = [
      thrownBy(() => parseCliOptions(['--count', '0'])),
      thrownBy(() => parseArguments(['--queue-url'])),
      thrownBy(() => parseBenchOptions(['--seconds', 'x'])),
    ];
    for (const error of refusals) {
      expect(error).toBeInstanceOf(CliUsageError);
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as Error).name).toBe('CliUsageError');
    }
  });

  it('a configuration file npm start cannot use is an InputFileError that keeps the configuration error', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sluice-errors-')), 'config.json');
    writeFileSync(file, JSON.stringify({ stage: 'dev' }));
    const error = thrownBy(() => loadConfigFile(file));
    expect(error).toBeInstanceOf(InputFileError);
    expect(error).toBeInstanceOf(SluiceError);
    const cause = (error as InputFileError).cause;
    expect(cause).toBeInstanceOf(SluiceConfigError);
    expect((error as InputFileError).message).toBe((cause as SluiceConfigError).message);
    expect((cause as SluiceConfigError).problems).toContain(`${file}: vendor: is required`);
  });
});
