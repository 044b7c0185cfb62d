import { isSlotTimeoutError } from '../../lambda/sluice/errors';
import { SluiceLogEvent } from '../../lambda/sluice/ops/log-events';
import { DEFINITIONS, granted } from './fixtures';
import { memoryClient } from './helpers';

async function seeded() {
  const setup = memoryClient();
  await setup.client.upsertBuckets(DEFINITIONS);
  return setup;
}

describe('slot under capacity it cannot see in its cache', () => {
  it('reads again before refusing from a view older than a second: a refund elsewhere is found', async () => {
    const a = memoryClient();
    const b = memoryClient({ store: a.store, clock: a.clock, seed: 2 });
    await a.client.upsertBuckets(DEFINITIONS);
    const long = granted(await a.client.acquire({ 'openai#tpm': 6_000 }));
    granted(await b.client.acquire({ 'openai#tpm': 4_000 })); // b's view: 0 tokens
    await long.settle({ 'openai#tpm': 0 }); // the table holds 6,000 again
    a.clock.advance(2_000);
    const slot = await b.client.slot({ 'openai#tpm': 5_000 }, { timeoutSeconds: 5 });
    expect(slot.grant.outcome).toBe('Granted');
  });

  it('reads once before giving up on a refusal from a view under a second old: a refund elsewhere is found', async () => {
    const a = memoryClient();
    const b = memoryClient({ store: a.store, clock: a.clock, seed: 2 });
    await a.client.upsertBuckets(DEFINITIONS);
    const long = granted(await a.client.acquire({ 'openai#tpm': 6_000 }));
    granted(await b.client.acquire({ 'openai#tpm': 4_000 })); // b's view: 0 tokens
    await long.settle({ 'openai#tpm': 0 }); // the table holds 6,000 again
    a.clock.advance(500); // b's view is still recent enough to refuse from
    const reads = a.store.requests.get;
    const slot = await b.client.slot({ 'openai#tpm': 5_000 }, { timeoutSeconds: 5 });
    expect([slot.grant.outcome, a.store.requests.get - reads]).toEqual(['Granted', 1]);
  });

  it('reads a concurrent bucket whose leases expired unreconciled about once a second, not every 50 ms', async () => {
    const holder = memoryClient();
    const waiter = memoryClient({ store: holder.store, clock: holder.clock, seed: 2 });
    await holder.client.upsertBuckets([{ dimension: 'sweeppea#one', limitType: 'concurrent', capacity: 1 }]);
    granted(await holder.client.acquire('sweeppea#one'));
    holder.clock.advance(61_000); // the lease (60 s) expired; reconcile has not run
    const reads = holder.store.requests.get;
    const error = await waiter.client.slot('sweeppea#one', { timeoutSeconds: 30 }).catch((e: unknown) => e);
    const read = holder.store.requests.get - reads;
    expect([isSlotTimeoutError(error), read <= 32]).toEqual([true, true]);
  });
});

describe('slot', () => {
  it('waits the returned waits on the injected sleep until granted', async () => {
    const { client, clock } = await seeded();
    for (let i = 0; i < 5; i++) granted(await client.acquire('waitwhile#rps'));
    const started = clock.nowMs;
    const slot = await client.slot('waitwhile#rps');
    expect([slot.grant.outcome, clock.nowMs - started]).toEqual(['Granted', 200]);
  });

  it('throws SlotTimeoutError when the wait asked would end past the deadline, and logs slot.timeout', async () => {
    const { client, logger } = await seeded();
    granted(await client.acquire({ 'openai#tpm': 10_000 }));
    const error = await client.slot({ 'openai#tpm': 5_000 }, { timeoutSeconds: 10 }).catch((e: unknown) => e);
    expect(isSlotTimeoutError(error) && error.message).toBe(
      'slot for openai#tpm not granted within 10 s: openai#tpm asks to wait 30 s and 10 s remain',
    );
    expect(logger.events(SluiceLogEvent.slotTimeout)).toEqual([
      { dimensions: ['openai#tpm'], timeout_seconds: 10, wait_seconds: 30 },
    ]);
  });

  it('polls a full concurrent bucket and gives up at the deadline', async () => {
    const { client, clock } = await seeded();
    granted(await client.acquire({ 'sweeppea#concurrent': 2 }));
    const started = clock.nowMs;
    await expect(client.slot('sweeppea#concurrent', { timeoutSeconds: 3 })).rejects.toThrow(
      'slot for sweeppea#concurrent not granted within 3 s: sweeppea#concurrent asks to wait 1 s and 0 s remain',
    );
    expect(clock.nowMs - started).toBe(3_000);
  });

  it('honours an AbortSignal before each attempt', async () => {
    const { client } = await seeded();
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(client.slot('openai#rpm', { signal: controller.signal })).rejects.toThrow('shutting down');
  });

  it('releases on scope exit with await using, exactly once even if released by hand too', async () => {
    const { client, logger } = await seeded();
    {
      await using slot = await client.slot('sweeppea#concurrent');
      expect((await client.snapshot('sweeppea#concurrent')).leases).toBe(1);
      await slot.release();
    }
    expect(await client.snapshot('sweeppea#concurrent')).toMatchObject({ tokens: 2, leases: 0 });
    expect(logger.events(SluiceLogEvent.releaseOk)).toHaveLength(1);
  });

  it('slotMany takes every cost at once', async () => {
    const { client } = await seeded();
    const slot = await client.slotMany({ 'openai#rpm': 1, 'openai#tpm': 300 });
    expect(slot.grant.costs).toEqual({ 'openai#rpm': 1, 'openai#tpm': 300 });
  });
});

describe('release after a store failure', () => {
  it('can be tried again, and then returns the slot exactly once', async () => {
    const { client, store } = memoryClient();
    await client.upsertBuckets(DEFINITIONS);
    const grant = granted(await client.acquire('sweeppea#concurrent'));
    const returnLease = store.returnLease.bind(store);
    store.returnLease = async () => {
      throw new Error('injected: store unavailable');
    };
    await expect(grant.release()).rejects.toThrow('injected: store unavailable');
    store.returnLease = returnLease;
    await grant.release();
    await grant.release();
    expect(await client.snapshot('sweeppea#concurrent')).toMatchObject({ tokens: 2, leases: 0 });
  });
});
