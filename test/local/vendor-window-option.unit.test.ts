import { parseCliOptions, USAGE } from '../../local/cli/options';
import { CliUsageError } from '../../local/cli/usage';
import { DEFAULT_FIXED_WINDOW, parseFixedWindowSpec } from '../../local/simulator';

/** `npm start -- --vendor-window fixed[:N/S]`: the simulator as a fixed-window vendor. */
describe('--vendor-window', () => {
  it('is absent unless asked for', () => {
    expect(parseCliOptions([]).vendorWindow).toBeUndefined();
  });

  it('takes "fixed" as the benchmark vendor, 3 per 1 s window, and "fixed:N/S" as N per S seconds', () => {
    expect(parseCliOptions(['--vendor-window', 'fixed']).vendorWindow).toEqual({
      limit: 3,
      windowSeconds: 1,
    });
    expect(DEFAULT_FIXED_WINDOW).toEqual({ limit: 3, windowSeconds: 1 });
    expect(parseCliOptions(['--vendor-window', 'fixed:100/60']).vendorWindow).toEqual({
      limit: 100,
      windowSeconds: 60,
    });
    expect(parseCliOptions(['--vendor-window=fixed:1/0.25']).vendorWindow).toEqual({
      limit: 1,
      windowSeconds: 0.25,
    });
  });

  it.each([
    [
      'sliding',
      'must be "fixed" (3 per 1 s) or "fixed:N/S", N requests per window of S seconds (got "sliding")',
    ],
    [
      'fixed:3',
      'must be "fixed" (3 per 1 s) or "fixed:N/S", N requests per window of S seconds (got "fixed:3")',
    ],
    [
      'fixed:-3/1',
      'must be "fixed" (3 per 1 s) or "fixed:N/S", N requests per window of S seconds (got "fixed:-3/1")',
    ],
    ['fixed:0/1', 'needs N from 1 to 10000 (got "fixed:0/1")'],
    ['fixed:3/0', 'needs S above 0 and at most 3600 seconds (got "fixed:3/0")'],
    ['fixed:3/7200', 'needs S above 0 and at most 3600 seconds (got "fixed:3/7200")'],
    ['fixed:3/0.0005', 'needs S to a whole number of milliseconds (got "fixed:3/0.0005")'],
  ])('refuses %s, naming what was given', (text, problem) => {
    expect(parseFixedWindowSpec(text)).toEqual({ problem });
    expect(() => parseCliOptions(['--vendor-window', text])).toThrow(`--vendor-window ${problem}`);
  });

  it('is a simulator option: not with --vendor-url, reported with every other problem at once', () => {
    let error: unknown;
    try {
      parseCliOptions(['--vendor-window', 'fixed:0/1', '--vendor-url', 'http://127.0.0.1:9', '--count', '0']);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliUsageError);
    expect((error as Error).message).toBe(
      'Invalid options:\n' +
        '  --count must be a whole number from 1 to 10000 (got "0")\n' +
        '  --vendor-window needs N from 1 to 10000 (got "fixed:0/1")\n' +
        '  --vendor-window sets the simulator and cannot be combined with --vendor-url\n' +
        'Run `npm start -- --help` for the options.',
    );
  });

  it('is in the help', () => {
    expect(USAGE).toContain('--vendor-window fixed[:N/S]');
  });
});
