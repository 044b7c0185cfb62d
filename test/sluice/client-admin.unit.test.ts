import { PenaltyFactor } from '../../lambda/sluice/core/types';
import { SluiceLogEvent } from '../../lambda/sluice/ops/log-events';
import { DEFINITIONS, granted } from './fixtures';
import { memoryClient } from './helpers';

async function seeded() {
  const setup = memoryClient();
  await setup.client.upsertBuckets(DEFINITIONS);
  return setup;
}

describe('settle', () => {
  it('refunds the unused part of a token estimate with one write', async () => {
    const { client, store } = await seeded();
    const grant = granted(await client.acquire({ 'openai#rpm': 1, 'openai#tpm': 4_000 }));
    const writes = store.requests.write;
    await grant.settle({ 'openai#tpm': 1_500 });
    expect([(await client.snapshot('openai#tpm')).tokens, store.requests.write - writes]).toEqual([8_500, 1]);
  });

  it('records an overrun as debt that delays the next grant until refill repays it', async () => {
    const { client } = await seeded();
    const grant = granted(await client.acquire({ 'openai#tpm': 9_000 }));
    await grant.settle({ 'openai#tpm': 12_000 });
    expect(await client.snapshot('openai#tpm')).toMatchObject({ tokens: -2_000, debt: 2_000 });
    expect(await client.acquire({ 'openai#tpm': 1 })).toEqual({
      outcome: 'RetryIn',
      waitSeconds: 12.006,
      dimension: 'openai#tpm',
    });
  });

  it('a refund after a long call never lifts the bucket above what one window allows', async () => {
    // tpm: 10,000 a minute. A grant of 10,000 streams for 60 s; refill fills the bucket meanwhile
    // and another worker takes it all; the late refund must not hand those 10,000 out twice.
    const { client, clock } = await seeded();
    const long = granted(await client.acquire({ 'openai#tpm': 10_000 }));
    clock.advance(60_000);
    granted(await client.acquire({ 'openai#tpm': 10_000 }));
    await long.settle({ 'openai#tpm': 0 });
    const third = await client.acquire({ 'openai#tpm': 10_000 });
    expect([(await client.snapshot('openai#tpm')).tokens, third.outcome]).toEqual([0, 'RetryIn']);
  });

  it('a refund halfway through the window credits what refill has not given back', async () => {
    const { client, clock } = await seeded();
    const long = granted(await client.acquire({ 'openai#tpm': 10_000 }));
    clock.advance(30_000);
    granted(await client.acquire({ 'openai#tpm': 5_000 }));
    await long.settle({ 'openai#tpm': 0 });
    expect((await client.snapshot('openai#tpm')).tokens).toBe(5_000);
  });

  it('a settle refused for a mistyped dimension can be called again with the right one', async () => {
    const { client } = await seeded();
    const grant = granted(await client.acquire({ 'openai#tpm': 4_000 }));
    await expect(grant.settle({ 'openai#tmp': 0 })).rejects.toThrow(
      'settle: openai#tmp was not granted here',
    );
    await grant.settle({ 'openai#tpm': 1_000 });
    await expect(grant.settle({ 'openai#tpm': 0 })).rejects.toThrow(
      'settle was already called on this grant',
    );
    expect((await client.snapshot('openai#tpm')).tokens).toBe(9_000);
  });

  it('refuses a dimension that was not granted, or that is not a tokens bucket', async () => {
    const { client } = await seeded();
    const grant = granted(await client.acquire({ 'openai#rpm': 1 }));
    await expect(grant.settle({ 'openai#tpm': 1 })).rejects.toThrow(
      'settle: openai#tpm was not granted here (granted: openai#rpm)',
    );
    const again = granted(await client.acquire({ 'openai#rpm': 1 }));
    await expect(again.settle({ 'openai#rpm': 0 })).rejects.toThrow(
      'settle applies to tokens buckets; openai#rpm is a requests bucket',
    );
  });
});

describe('upsertBuckets', () => {
  it('keeps live tokens when a definition changes, clamping them to a lowered capacity', async () => {
    const { client } = await seeded();
    granted(await client.acquire({ 'openai#tpm': 4_000 }));
    await client.upsertBuckets([
      { dimension: 'openai#tpm', limitType: 'tokens', capacity: 20_000, windowSeconds: 60 },
    ]);
    expect((await client.snapshot('openai#tpm')).tokens).toBe(6_000);
    await client.upsertBuckets([
      { dimension: 'openai#tpm', limitType: 'tokens', capacity: 5_000, windowSeconds: 60 },
    ]);
    expect(await client.snapshot('openai#tpm')).toMatchObject({ capacity: 5_000, tokens: 5_000 });
  });

  it('keeps the leases of a concurrent bucket and gives it the added capacity', async () => {
    const { client } = await seeded();
    granted(await client.acquire('sweeppea#concurrent'));
    await client.upsertBuckets([{ dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 4 }]);
    expect(await client.snapshot('sweeppea#concurrent')).toMatchObject({ capacity: 4, tokens: 3, leases: 1 });
  });

  it('updates existing keys of a keyed dimension along with its template, keeping their tokens', async () => {
    const { client, store } = await seeded();
    granted(await client.acquire('waitwhile#location-writes#loc-1'));
    await client.upsertBuckets([
      { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 3, windowSeconds: 1 },
    ]);
    expect(await client.snapshot('waitwhile#location-writes#loc-1')).toMatchObject({
      capacity: 3,
      tokens: 0,
      refillPerSecond: 3,
    });
    expect(await client.snapshot('waitwhile#location-writes#loc-2')).toMatchObject({
      capacity: 3,
      tokens: 3,
    });
    // Looking at a key not used yet does not create it.
    expect(await store.get('waitwhile#location-writes#loc-2')).toBeUndefined();
  });

  it('reports every problem of a bad definition in one message', async () => {
    const { client } = memoryClient();
    await expect(
      client.upsertBuckets([
        { dimension: 'openai#rpm', limitType: 'requests', capacity: 0.5, windowSeconds: 0, costPerCall: 2 },
      ]),
    ).rejects.toThrow(
      'bucket definition openai#rpm is not valid: capacity must be a positive integer of at most 1000000000 (got 0.5); ' +
        'windowSeconds must be a positive number of at most 31622400 for a requests bucket (got 0); costPerCall must be > 0 and <= capacity (got 2)',
    );
  });
});

describe('penalize', () => {
  it('scales the refilled tokens by the factor, logs it, and every client sees it', async () => {
    const { client, logger } = await seeded();
    expect(await client.penalize('openai#rpm')).toEqual({
      dimension: 'openai#rpm',
      factor: 0.8,
      tokensBefore: 60,
      tokensAfter: 48,
      rateScaleBefore: 1,
      rateScaleAfter: 0.8,
      rateCeilingAfter: 0.95,
    });
    expect(await client.penalize('openai#rpm', PenaltyFactor.longRetryAfter)).toMatchObject({
      tokensAfter: 14.4,
    });
    expect(logger.events(SluiceLogEvent.penalizeApplied)[0]).toEqual({
      dimension: 'openai#rpm',
      factor: 0.8,
      tokens_before: 60,
      tokens_after: 48,
      rate_scale_before: 1,
      rate_scale_after: 0.8,
      rate_ceiling_after: 0.95,
    });
  });

  it.each([
    [
      'a concurrent bucket',
      'sweeppea#concurrent',
      0.8,
      'penalize does not apply to sweeppea#concurrent: it is a concurrent bucket (it has no refill to heal it)',
    ],
    [
      'an unknown dimension',
      'openai#rpd',
      0.8,
      'unknown dimension openai#rpd: no bucket definition openai#rpd in the table (upsert it first)',
    ],
    ['a factor of 0', 'openai#rpm', 0, 'penalize factor for openai#rpm must be in (0, 1] (got 0)'],
    ['a factor above 1', 'openai#rpm', 1.5, 'penalize factor for openai#rpm must be in (0, 1] (got 1.5)'],
    ['a NaN factor', 'openai#rpm', Number.NaN, 'penalize factor for openai#rpm must be in (0, 1] (got NaN)'],
  ])('refuses %s', async (_name, dimension, factor, message) => {
    const { client } = await seeded();
    await expect(client.penalize(dimension, factor)).rejects.toThrow(message);
  });
});

describe('resync', () => {
  it("lowers tokens to the vendor's remaining count and never raises them", async () => {
    const { client } = await seeded();
    await client.resync('openai#tpm', 2_500);
    await client.resync('openai#tpm', 9_000);
    expect((await client.snapshot('openai#tpm')).tokens).toBe(2_500);
  });
});
