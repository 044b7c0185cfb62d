import { parseVendorSettings } from '../../lambda/worker-settings';

const base = { name: 'waitwhile', baseUrl: 'https://api.example.com' };

describe('the circuit settings', () => {
  it('have documented defaults', () => {
    expect(parseVendorSettings(base).circuit).toEqual({
      failureThreshold: 5,
      windowSeconds: 60,
      probeIntervalSeconds: 30,
      maxProbeIntervalSeconds: 300,
      backoffAfterSeconds: 1_800,
      slowStartSeconds: 5,
    });
  });

  it('report every bad value in one message', () => {
    expect(() =>
      parseVendorSettings({
        ...base,
        circuit: {
          failureThreshold: 0,
          windowSeconds: -1,
          probeIntervalSeconds: 1_000,
          maxProbeIntervalSeconds: 60,
        },
      }),
    ).toThrow(
      [
        'Invalid vendor settings (4 problems):',
        '  vendor.circuit.failureThreshold: Too small: expected number to be >=1 (got 0)',
        '  vendor.circuit.windowSeconds: Too small: expected number to be >0 (got -1)',
        '  vendor.circuit.probeIntervalSeconds: Too big: expected number to be <=900 (got 1000)',
      ].join('\n'),
    );
    expect(() =>
      parseVendorSettings({ ...base, circuit: { probeIntervalSeconds: 120, maxProbeIntervalSeconds: 60 } }),
    ).toThrow(
      'vendor.circuit.maxProbeIntervalSeconds: probeIntervalSeconds must not exceed maxProbeIntervalSeconds',
    );
  });
});
