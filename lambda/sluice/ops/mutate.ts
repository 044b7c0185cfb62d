import type { BucketItem, WriteOp } from '../core/model';
import { applyWrite, type BucketWrite } from '../core/writes';
import { SluiceError, SluiceStoreError } from '../errors';
import type { SluiceContext } from './context';

/** What a mutation wants done to one item: a versioned write, a creation, or nothing. */
export type Mutation<T> =
  | { readonly write: Omit<BucketWrite, 'pk' | 'expectedVersion'>; readonly result: T }
  | { readonly create: BucketItem; readonly result: T }
  | { readonly result: T };

/** Settle, penalize, resync and upsert are rare next to acquire: they may retry longer. */
const MUTATION_ATTEMPTS = 10;
const MUTATION_BACKOFF_MS = 20;

/**
 * Read-modify-write of one item, conditioned on the version seen, every attempt carrying the
 * operation's `op` (a repeat of an applied attempt answers as it did); a conflict hands back the
 * current item (ALL_OLD) and the mutation is recomputed on it. An in-flight transaction on the
 * item (no item returned) is waited out with a short jittered sleep. This improves on the
 * documented Sluice's blind penalize write, which could overwrite a concurrent grant.
 */
export async function mutateItem<T>(
  ctx: SluiceContext,
  pk: string,
  mutate: (item: BucketItem | undefined, nowMs: number) => Mutation<T>,
  options: { readonly op: WriteOp; readonly fresh?: boolean },
): Promise<T> {
  let item = options.fresh ? await ctx.cache.refresh(pk) : (await ctx.cache.load(pk)).item;
  for (let attempt = 0; attempt < MUTATION_ATTEMPTS; attempt++) {
    const mutation = mutate(item, ctx.clock());
    if ('create' in mutation) {
      const outcome = await ctx.store.create(mutation.create);
      if (outcome.ok) {
        ctx.cache.remember(mutation.create);
        return mutation.result;
      }
      item = outcome.current ?? (await ctx.cache.refresh(pk));
      ctx.cache.remember(item, pk);
      continue;
    }
    if (!('write' in mutation)) return mutation.result;
    if (!item) throw new SluiceError(`mutateItem: a write needs an existing item ${pk}`);
    const write: BucketWrite = { pk, expectedVersion: item.version, ...mutation.write, op: options.op };
    const outcome = await ctx.store.write(write);
    if (outcome.ok) {
      ctx.cache.remember(applyWrite(item, write));
      return mutation.result;
    }
    if (outcome.current) {
      item = outcome.current;
      ctx.cache.remember(item);
    } else {
      await ctx.sleep(Math.floor(ctx.random() * MUTATION_BACKOFF_MS * 2 ** Math.min(attempt, 5)));
      item = await ctx.cache.refresh(pk);
    }
  }
  throw new SluiceStoreError(
    `item ${pk} kept changing under ${MUTATION_ATTEMPTS} conditional writes; giving up`,
    'contended',
  );
}
