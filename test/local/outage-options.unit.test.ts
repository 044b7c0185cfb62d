import { parseCliOptions } from '../../local/cli/options';

describe('npm start outage options', () => {
  it('schedules the simulator down with --down-from and --down-for', () => {
    expect(parseCliOptions(['--down-from', '30', '--down-for', '600']).outage).toEqual({
      fromSeconds: 30,
      forSeconds: 600,
    });
    expect(parseCliOptions([]).outage).toBeUndefined();
  });

  it('reports every problem in one message', () => {
    expect(() => parseCliOptions(['--down-from', '-3', '--down-for', '0'])).toThrow(
      [
        'Invalid options:',
        '  --down-from must be a whole number of seconds, at least 0 (got "-3")',
        '  --down-for must be a whole number of seconds from 1 to 3600 (got "0")',
      ].join('\n'),
    );
    expect(() => parseCliOptions(['--down-for', '10'])).toThrow(
      '--down-from and --down-for go together: when the vendor goes down, and for how long',
    );
    expect(() =>
      parseCliOptions(['--down-from', '1', '--down-for', '10', '--vendor-url', 'http://127.0.0.1:9']),
    ).toThrow('--down-from and --down-for schedule the simulator and cannot be combined with --vendor-url');
  });
});
