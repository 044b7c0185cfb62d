import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { completedOutcome } from '../../lambda/outcomes/build';
import { type BodyStore, claimCheck, sha256Hex } from '../../lambda/outcomes/claim-check';
import { OutcomeEventSchema, outcomeJsonSchema } from '../../lambda/producer/outcome';

/** A store that keeps what it is given, to read the claim check back (S3 itself: test/worker/outcome-topic.test.ts). */
function memoryStore(): BodyStore & { objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  return {
    bucket: 'bodies',
    objects,
    put: async (key, bytes) => {
      objects.set(key, bytes);
    },
  };
}

const outcomeWith = (body: unknown) =>
  completedOutcome({
    routing: { id: 'order-1', product: 'checkout', operation: 'createVisit' },
    attempts: 1,
    endedAtMs: 1_700_000_000_000,
    answer: {
      class: 'success',
      status: 200,
      ...(body === undefined ? {} : { body }),
      headers: { 'content-type': 'application/json' },
      rateLimit: {},
      latencyMs: 5,
      attempts: 1,
      cached: false,
      outcomeUnknown: false,
    },
  });

describe('the claim check', () => {
  it('never truncates: an event is inline under the limit, or names a stored body that reads back whole with its sha256', async () => {
    await fc.assert(
      fc.asyncProperty(
        // Sizes around the limits, so both sides of it (and bodies larger than it) come up often.
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.string({ maxLength: 3_000, size: 'max' }),
          fc.string({ maxLength: 3_000, size: 'max', unit: 'grapheme' }),
        ),
        fc.integer({ min: 200, max: 2_000 }),
        async (body, limitBytes) => {
          const store = memoryStore();
          const outcome = outcomeWith(body);
          const { json, claimChecked } = await claimCheck(outcome, store, limitBytes);
          const event = OutcomeEventSchema.parse(JSON.parse(json));
          if (event.outcome !== 'completed') throw new Error('not a completed event');
          if (!claimChecked) {
            expect(Buffer.byteLength(json) <= limitBytes || body === undefined).toBe(true);
            expect(event.body).toEqual(JSON.parse(JSON.stringify(outcome)).body);
            return;
          }
          const ref = event.bodyRef;
          const bytes = store.objects.get(ref?.key ?? '') ?? Buffer.alloc(0);
          expect([ref?.size, ref?.sha256]).toEqual([bytes.length, sha256Hex(bytes)]);
          const back = ref?.format === 'text' ? bytes.toString('utf8') : JSON.parse(bytes.toString('utf8'));
          expect(back).toEqual(JSON.parse(JSON.stringify(outcome)).body);
          expect(event.body).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stores a text body as text and a JSON body as JSON', async () => {
    const store = memoryStore();
    const text = await claimCheck(outcomeWith('a'.repeat(500)), store, 300);
    const json = await claimCheck(outcomeWith({ notes: 'b'.repeat(500) }), store, 300);
    expect([JSON.parse(text.json).bodyRef.format, JSON.parse(json.json).bodyRef.format]).toEqual([
      'text',
      'json',
    ]);
  });

  it('fails, rather than truncating, when a body is too large and no bucket is configured', async () => {
    await expect(claimCheck(outcomeWith('c'.repeat(500)), undefined, 300)).rejects.toThrow(
      /order-1 is \d+ bytes as an event and no outcome bucket is configured/,
    );
  });
});

describe('the outcome event schema for products', () => {
  it('is published as JSON Schema beside the docs, generated from the zod schema', () => {
    const file = join(__dirname, '..', '..', 'docs', 'outcome-event.schema.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(outcomeJsonSchema());
  });
});
