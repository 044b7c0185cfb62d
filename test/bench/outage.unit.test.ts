import { parseBenchOptions } from '../../bench/options';

describe('npm run bench -- --outage options', () => {
  it('runs 500 messages against a 10-minute outage, then a revoked key, at full scale by default', () => {
    expect(parseBenchOptions(['--outage']).outage).toEqual({
      messages: 500,
      outageSeconds: 600,
      timeScale: 1,
      runs: ['down', 'key-revoked'],
    });
    expect(parseBenchOptions([]).outage).toBeUndefined();
  });

  it('takes a shortened run and one of the two runs', () => {
    expect(
      parseBenchOptions(['--outage', '--count', '300', '--time-scale', '0.1', '--outage-only', 'down'])
        .outage,
    ).toEqual({ messages: 300, outageSeconds: 600, timeScale: 0.1, runs: ['down'] });
  });

  it('reports every bad value together', () => {
    expect(() => parseBenchOptions(['--outage', '--time-scale', '2', '--outage-only', 'both'])).toThrow(
      'Invalid options: --time-scale must be a number above 0 and at most 1 (got "2"); --outage-only must be down or key-revoked (got "both")',
    );
  });
});
