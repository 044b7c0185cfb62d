import { grantRepeat } from '../../lambda/worker/pipeline/repeat-grant';
import type { SluicePort } from '../../lambda/worker/ports';
import type { PreparedMessage, WorkerRuntime } from '../../lambda/worker/runtime';
import { WarmEnvironment } from '../../lambda/worker/warm/warm-environment';

/** Lets every promise callback that can run, run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A refused repeat waits its turn in the pool's line for that bucket, as a first acquire does:
 * the line's head and the repeat never wake together to race for one unit. The SDK port is a
 * scripted stand-in (its answers in order); the line is the worker's own.
 */
describe('a refused repeat and the bucket line', () => {
  function setUp() {
    const answers = [
      { outcome: 'RetryIn' as const, waitSeconds: 0.2, dimension: 'api#rps' },
      { outcome: 'Granted' as const },
    ];
    const acquires: number[] = [];
    let nowMs = 0;
    const sluice = {
      acquire: async () => {
        acquires.push(nowMs);
        return answers.shift() ?? { outcome: 'Granted' as const };
      },
      penalize: async () => ({}),
      resync: async () => undefined,
    } as unknown as SluicePort;
    const warm = new WarmEnvironment(sluice, { maxInFlight: 4, release: async () => {} });
    const runtime = {
      warm,
      clock: () => nowMs,
      // A stepped clock; the line's patience (the inline threshold, 5 s) never runs out here.
      sleep: (ms: number) => {
        if (ms >= 5_000) return new Promise<void>(() => {});
        nowMs += ms;
        return Promise.resolve();
      },
      inlineRetryThresholdSeconds: 5,
      sluice,
      telemetry: { count: () => {}, info: () => {}, warn: () => {} },
    } as unknown as WorkerRuntime;
    const prepared = {
      message: { id: 'm-1' },
      acquireOptions: {},
      deadlineMs: 60_000,
    } as unknown as PreparedMessage;
    return { warm, runtime, prepared, acquires };
  }

  it('joins the line behind the head and acquires again only once the head has left', async () => {
    const { warm, runtime, prepared, acquires } = setUp();
    const head = await warm.joinLine('api#rps', async () => {});
    let granted: boolean | undefined;
    const repeat = grantRepeat({ 'api#rps': 1 }, prepared, runtime).then((answer) => {
      granted = answer;
    });
    for (let i = 0; i < 20 && warm.waiting('api#rps') < 2; i++) await settle();
    expect([warm.waiting('api#rps'), acquires.length, granted]).toEqual([2, 1, undefined]);
    head?.leave();
    await repeat;
    expect([granted, acquires.length, warm.waiting('api#rps')]).toEqual([true, 2, 0]);
  });

  it('with no one in line, sleeps the wait in its own turn and acquires again', async () => {
    const { warm, runtime, prepared, acquires } = setUp();
    expect(await grantRepeat({ 'api#rps': 1 }, prepared, runtime)).toBe(true);
    expect(acquires).toEqual([0, 200]);
    expect(warm.waiting('api#rps')).toBe(0);
  });
});
