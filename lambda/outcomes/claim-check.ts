import { createHash } from 'node:crypto';
import type { BodyRef, CompletedOutcome } from '../producer/outcome';
import { SluiceError } from '../sluice';

/**
 * The claim check: an answer body too large for the topic goes to the outcome bucket and the
 * event carries where it is, its size and its sha256. SNS takes 256 KiB per message with its
 * attributes, and the stored copy lives in a DynamoDB item (400 KB); an event kept under
 * `MAX_INLINE_OUTCOME_BYTES` fits both with room to spare. No body is ever truncated.
 */
export const MAX_INLINE_OUTCOME_BYTES = 200 * 1024;

/** Where claim-checked bodies go (the S3 adapter in aws.ts; tests use the same against fauxqs). */
export interface BodyStore {
  readonly bucket: string;
  put(key: string, bytes: Buffer, contentType: string): Promise<void>;
}

/** The object key of a message's body: one per product and id, so a repeated put overwrites itself. */
export function bodyKey(product: string, id: string): string {
  return `outcomes/${product}/${encodeURIComponent(id)}/body`;
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The outcome as JSON, its body moved to the store first when the whole would be too large. */
export async function claimCheck(
  outcome: CompletedOutcome,
  store: BodyStore | undefined,
  limitBytes = MAX_INLINE_OUTCOME_BYTES,
): Promise<{ readonly json: string; readonly claimChecked: boolean }> {
  const inline = JSON.stringify(outcome);
  if (Buffer.byteLength(inline) <= limitBytes || outcome.body === undefined) {
    return { json: inline, claimChecked: false };
  }
  if (!store) {
    throw new SluiceError(
      `the answer to ${outcome.id} is ${Buffer.byteLength(inline)} bytes as an event and no outcome bucket is configured`,
    );
  }
  const text = typeof outcome.body === 'string';
  const bytes = Buffer.from(text ? (outcome.body as string) : JSON.stringify(outcome.body));
  const key = bodyKey(outcome.product, outcome.id);
  await store.put(key, bytes, text ? 'text/plain; charset=utf-8' : 'application/json');
  const bodyRef: BodyRef = {
    bucket: store.bucket,
    key,
    size: bytes.length,
    sha256: sha256Hex(bytes),
    format: text ? 'text' : 'json',
  };
  const { body: _body, ...rest } = outcome;
  return { json: JSON.stringify({ ...rest, bodyRef }), claimChecked: true };
}
