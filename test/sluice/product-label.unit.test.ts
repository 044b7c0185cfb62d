import { isSluiceInputError } from '../../lambda/sluice/errors';
import { SluiceLogEvent } from '../../lambda/sluice/ops/log-events';
import { DEFINITIONS, granted } from './fixtures';
import { memoryClient } from './helpers';

async function seeded() {
  const setup = memoryClient();
  await setup.client.upsertBuckets(DEFINITIONS);
  return setup;
}

describe('the product label on acquire and slot', () => {
  it('is logged as `product` on acquire.granted and acquire.retry_in', async () => {
    const { client, logger } = await seeded();
    for (let i = 0; i < 5; i++) granted(await client.acquire('waitwhile#rps', { product: 'checkout' }));
    const refused = await client.acquire('waitwhile#rps', { product: 'checkout' });
    expect(refused.outcome).toBe('RetryIn');
    expect(logger.events(SluiceLogEvent.acquireGranted).map((fields) => fields.product)).toEqual(
      Array(5).fill('checkout'),
    );
    expect(logger.events(SluiceLogEvent.acquireRetryIn)).toEqual([
      { dimension: 'waitwhile#rps', wait_seconds: 0.2, product: 'checkout' },
    ]);
  });

  it('is absent when the caller names no product (the events keep their old shape)', async () => {
    const { client, logger } = await seeded();
    granted(await client.acquire('waitwhile#rps'));
    expect(Object.keys(logger.events(SluiceLogEvent.acquireGranted)[0] ?? {})).not.toContain('product');
  });

  it('is carried by slot to every attempt and to slot.timeout', async () => {
    const { client, logger } = await seeded();
    granted(await client.acquire({ 'openai#tpm': 10_000 }));
    const error = await client
      .slot({ 'openai#tpm': 5_000 }, { timeoutSeconds: 10, product: 'reports' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(logger.events(SluiceLogEvent.slotTimeout)).toEqual([
      { dimensions: ['openai#tpm'], timeout_seconds: 10, wait_seconds: 30, product: 'reports' },
    ]);
    // Two attempts: the refusal from the cached view, then its check on a fresh read.
    expect(logger.events(SluiceLogEvent.acquireRetryIn).map((fields) => fields.product)).toEqual([
      'reports',
      'reports',
    ]);
  });

  it.each([
    ['', 'empty'],
    ['Checkout', 'upper case'],
    ['order-id-1234567890-1234567890-12', 'longer than 32'],
    ['1checkout', 'a digit first'],
    ['a b', 'a space'],
  ])('refuses %j (%s) before touching a bucket: labels must stay few and printable', async (product) => {
    const { client, logger } = await seeded();
    const error = await client.acquire('waitwhile#rps', { product }).catch((e: unknown) => e);
    expect(isSluiceInputError(error) && error.message).toMatch(/^product must be 1-32 lowercase letters/);
    expect(logger.records).toEqual([]);
  });
});
