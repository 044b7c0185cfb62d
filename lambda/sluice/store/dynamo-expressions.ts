import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { BucketItem } from '../core/model';
import type { BucketWrite, LeaseHandOver, StoredTake } from '../core/writes';
import type { LeaseReturn, TemplateCheck } from './bucket-store';
import { Attr, bucketToRecord, definitionToRecord, itemFromRecord, itemToRecord } from './item-codec';
import { SWEEP_INDEX, TABLE_PARTITION_KEY } from './table';

/** The expressions `DynamoBucketStore` sends (no commands here: no I/O); what a failure means is in dynamo-send.ts. */

/**
 * Every update of a bucket item also sets its sweep index key (the item's own pk), so an item
 * created before the index joins it on its next write. The value never changes, so the index
 * is written once per item, not once per grant.
 */
function sweepKeySet(pk: string, names: Record<string, string>, values: Record<string, unknown>): string {
  names['#sweep'] = SWEEP_INDEX.partitionKey;
  values[':sweep'] = pk;
  return '#sweep = :sweep';
}

/** `SET` whole bucket/template entries and the next version, if the version is still the one seen. */
export function versionedUpdate(write: BucketWrite) {
  const names: Record<string, string> = { '#v': Attr.version };
  const values: Record<string, unknown> = {
    ':seen': write.expectedVersion,
    ':next': write.expectedVersion + 1,
  };
  const sets: string[] = ['#v = :next', sweepKeySet(write.pk, names, values)];
  const removes: string[] = [];
  if (write.op || write.forgetWriters?.length) names['#wr'] = Attr.writers;
  if (write.op) {
    // The op the item now holds: a repeat of this write, refused on the version, is recognised by it.
    names['#wid'] = write.op.writer;
    values[':seq'] = write.op.seq;
    sets.push('#wr.#wid = :seq');
  }
  write.forgetWriters?.forEach((writer, i) => {
    names[`#f${i}`] = writer;
    removes.push(`#wr.#f${i}`);
  });
  const add = (mapAttr: string, alias: string, entries: Record<string, unknown>) => {
    if (Object.keys(entries).length === 0) return; // DynamoDB refuses unused attribute names
    names[`#${alias}`] = mapAttr;
    Object.entries(entries).forEach(([metric, record], i) => {
      names[`#${alias}${i}`] = metric; // metric names may contain "-": always an attribute name
      values[`:${alias}${i}`] = record;
      sets.push(`#${alias}.#${alias}${i} = :${alias}${i}`);
    });
  };
  if (write.buckets)
    add(
      Attr.buckets,
      'b',
      Object.fromEntries(Object.entries(write.buckets).map(([m, b]) => [m, bucketToRecord(b)])),
    );
  if (write.templates)
    add(
      Attr.templates,
      't',
      Object.fromEntries(Object.entries(write.templates).map(([m, t]) => [m, definitionToRecord(t)])),
    );
  return {
    Key: key(write.pk),
    UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
    // Lets through: nobody wrote the item since we read it (every write bumps the version).
    // A missing item fails too (version absent), so a write never creates a half item.
    ConditionExpression: '#v = :seen',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: marshall(values, { removeUndefinedValues: true }),
  };
}

/**
 * `takeStored` (core/writes.ts says when a take from stored tokens is exact): each bucket's stored
 * tokens minus its cost (a lease added, the grant counted, `last_refill_at_ms` moved to now
 * for a full bucket), the version bumped, if every guard holds. No version condition: takes
 * from stored tokens commute, so concurrent callers do not conflict.
 */
export function storedTakeUpdate(take: StoredTake) {
  const names: Record<string, string> = {
    '#v': Attr.version,
    '#b': Attr.buckets,
    '#tok': Attr.tokensMilli,
    '#debt': Attr.debtMilli,
  };
  const values: Record<string, unknown> = { ':one': 1, ':zero': 0, ':seq': take.op.seq };
  names['#wr'] = Attr.writers;
  names['#wid'] = take.op.writer;
  const sets: string[] = ['#wr.#wid = :seq', sweepKeySet(take.pk, names, values)];
  // Only the first application meets this: it leaves the op in the item, so a repeat is refused
  // (and recognised by the op in the item it hands back).
  const conditions: string[] = ['(attribute_not_exists(#wr.#wid) OR #wr.#wid <> :seq)'];
  Object.assign(names, {
    '#lt': Attr.limitType,
    '#defcap': Attr.capacityMilli,
    '#defw': Attr.windowMs,
    '#cpc': Attr.costPerCall,
  });
  take.takes.forEach(({ metric, definition, costMilli, guard, lease, countGrant }, i) => {
    const bucket = `#b.#m${i}`;
    names[`#m${i}`] = metric;
    values[`:c${i}`] = costMilli;
    sets.push(`${bucket}.#tok = ${bucket}.#tok - :c${i}`);
    conditions.push(`${bucket}.#tok >= :c${i}`, `${bucket}.#debt = :zero`);
    // No Retry-After hold in force at the take's instant, even one set after the caller's view.
    names['#hold'] = Attr.holdUntilMs;
    values[':takeNow'] = take.nowMs;
    conditions.push(`(attribute_not_exists(${bucket}.#hold) OR ${bucket}.#hold <= :takeNow)`);
    // The definition the take was computed from (a stale cache meets a conflict, not another type's guard).
    Object.assign(values, {
      [`:lt${i}`]: definition.limitType,
      [`:defcap${i}`]: definition.capacityMilli,
      [`:defw${i}`]: definition.windowMs,
      [`:cpc${i}`]: definition.costPerCall,
    });
    conditions.push(
      `${bucket}.#lt = :lt${i}`,
      `${bucket}.#defcap = :defcap${i}`,
      `${bucket}.#defw = :defw${i}`,
      `${bucket}.#cpc = :cpc${i}`,
    );
    if (guard.kind !== 'leases') {
      Object.assign(names, {
        '#cap': Attr.capacityMilli,
        '#lr': Attr.lastRefillAtMs,
        '#leases': Attr.leases,
      });
      values[`:cap${i}`] = guard.capacityMilli;
      // No slice held (core/writes.ts): a slice lowers the level refill reaches.
      conditions.push(`${bucket}.#cap = :cap${i}`, `size(${bucket}.#leases) = :zero`);
    }
    if (guard.kind === 'full') {
      values[`:now${i}`] = guard.nowMs;
      conditions.push(`${bucket}.#tok = :cap${i}`, `${bucket}.#lr <= :now${i}`);
      names['#full'] = Attr.fullAtMs;
      sets.push(`${bucket}.#lr = :now${i}`, `${bucket}.#full = :now${i}`);
    }
    if (guard.kind === 'unfilled') {
      names['#w'] = Attr.windowMs;
      Object.assign(values, {
        [`:w${i}`]: guard.windowMs,
        [`:most${i}`]: guard.tokensAtMostMilli,
        [`:since${i}`]: guard.lastRefillAtLeastMs,
      });
      conditions.push(`${bucket}.#w = :w${i}`, `${bucket}.#tok <= :most${i}`, `${bucket}.#lr >= :since${i}`);
    }
    if (lease) {
      names['#leases'] = Attr.leases;
      names[`#l${i}`] = lease.id;
      values[`:l${i}`] = {
        [Attr.costMilli]: lease.state.costMilli,
        [Attr.expiresAtMs]: lease.state.expiresAtMs,
      };
      sets.push(`${bucket}.#leases.#l${i} = :l${i}`);
    }
    if (countGrant) {
      names['#g'] = Attr.grantedSinceCutMilli;
      sets.push(`${bucket}.#g = if_not_exists(${bucket}.#g, :zero) + :c${i}`);
    }
  });
  return {
    Key: key(take.pk),
    UpdateExpression: `SET ${sets.join(', ')} ADD #v :one`,
    // Lets through: every guard holds (a missing bucket or item fails).
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: marshall(values),
  };
}

/** A key's template still the definition the key's bucket is made from (first use of a key). */
export function templateCheck(template: TemplateCheck) {
  const { definition } = template;
  return {
    Key: key(template.pk),
    // Lets through: the template is still the definition the key's bucket was made from.
    ConditionExpression: '#t.#m.#lt = :lt AND #t.#m.#cap = :cap AND #t.#m.#w = :w AND #t.#m.#cpc = :cpc',
    ExpressionAttributeNames: {
      '#t': Attr.templates,
      '#m': template.metric,
      '#lt': Attr.limitType,
      '#cap': Attr.capacityMilli,
      '#w': Attr.windowMs,
      '#cpc': Attr.costPerCall,
    },
    ExpressionAttributeValues: marshall({
      ':lt': definition.limitType,
      ':cap': definition.capacityMilli,
      ':w': definition.windowMs,
      ':cpc': definition.costPerCall,
    }),
  };
}

export function key(pk: string): Record<string, AttributeValue> {
  return { [TABLE_PARTITION_KEY]: { S: pk } };
}

export function decode(item: Record<string, AttributeValue>): BucketItem {
  return itemFromRecord(unmarshall(item));
}

/**
 * A new item's put, alone or in the transaction that checks its template. Lets through: no item
 * with this pk. First use of a key races other clients; the loser gets the winner's item back
 * (ALL_OLD) and adopts it.
 */
export function putIfAbsent(item: BucketItem) {
  return {
    Item: marshall(itemToRecord(item), { removeUndefinedValues: true }),
    ConditionExpression: 'attribute_not_exists(#pk)',
    ExpressionAttributeNames: { '#pk': TABLE_PARTITION_KEY },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
  };
}

/** Gives a lease's cost back and removes the lease, in one update (`returnLease`). */
export function leaseReturnUpdate(lease: LeaseReturn) {
  const names: Record<string, string> = {
    '#b': Attr.buckets,
    '#m': lease.metric,
    '#tokens': Attr.tokensMilli,
    '#leases': Attr.leases,
    '#id': lease.leaseId,
    '#v': Attr.version,
  };
  const values: Record<string, unknown> = { ':cost': lease.costMilli, ':one': 1 };
  const mark = sweepKeySet(lease.pk, names, values);
  // Lets through: the lease is still held. A release and a reclaim of one lease race; exactly one
  // of them finds it, so its capacity comes back exactly once. No clamp is needed: for a concurrent
  // bucket tokens + live lease costs = capacity, so adding a held lease's cost never passes capacity.
  let condition = 'attribute_exists(#b.#m.#leases.#id)';
  if (lease.expiredBeforeMs !== undefined) {
    // Reclaim only: and only once the lease expired, so a running holder is never reclaimed.
    condition += ' AND #b.#m.#leases.#id.#exp < :now';
    Object.assign(names, { '#exp': Attr.expiresAtMs });
    values[':now'] = lease.expiredBeforeMs;
  }
  return {
    Key: key(lease.pk),
    UpdateExpression: `SET #b.#m.#tokens = #b.#m.#tokens + :cost, ${mark} REMOVE #b.#m.#leases.#id ADD #v :one`,
    ConditionExpression: condition,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: marshall(values),
  };
}

/**
 * `handOverLeases` (core/writes.ts): in each bucket the old lease removed and the new one added,
 * tokens untouched, the op recorded and the version bumped, in one update. No version condition:
 * the old lease being held is what makes the slot ours to hand over.
 */
export function leaseHandOverUpdate(handOver: LeaseHandOver) {
  const names: Record<string, string> = {
    '#v': Attr.version,
    '#b': Attr.buckets,
    '#leases': Attr.leases,
    '#wr': Attr.writers,
    '#wid': handOver.op.writer,
    '#hold': Attr.holdUntilMs,
    '#lt': Attr.limitType,
    '#defcap': Attr.capacityMilli,
    '#defw': Attr.windowMs,
    '#cpc': Attr.costPerCall,
    '#lcost': Attr.costMilli,
    '#tok': Attr.tokensMilli,
  };
  const values: Record<string, unknown> = {
    ':one': 1,
    ':zero': 0,
    ':seq': handOver.op.seq,
    ':now': handOver.nowMs,
  };
  const sets: string[] = ['#wr.#wid = :seq', sweepKeySet(handOver.pk, names, values)];
  const removes: string[] = [];
  // Only the first application meets this (a repeat is recognised by the op in the item).
  const conditions: string[] = ['(attribute_not_exists(#wr.#wid) OR #wr.#wid <> :seq)'];
  handOver.leases.forEach(({ metric, definition, fromLeaseId, to }, i) => {
    const bucket = `#b.#m${i}`;
    Object.assign(names, { [`#m${i}`]: metric, [`#from${i}`]: fromLeaseId, [`#to${i}`]: to.id });
    Object.assign(values, {
      [`:to${i}`]: { [Attr.costMilli]: to.state.costMilli, [Attr.expiresAtMs]: to.state.expiresAtMs },
      [`:cost${i}`]: to.state.costMilli,
      [`:lt${i}`]: definition.limitType,
      [`:defcap${i}`]: definition.capacityMilli,
      [`:defw${i}`]: definition.windowMs,
      [`:cpc${i}`]: definition.costPerCall,
    });
    // Lets through: the old lease is still held at the same cost (not released, not reclaimed),
    // the definition is the one the caller saw, the leases fit the capacity (a capacity lowered
    // below them lets none be passed on), and no Retry-After hold is in force.
    conditions.push(
      `${bucket}.#leases.#from${i}.#lcost = :cost${i}`,
      `${bucket}.#tok >= :zero`,
      `${bucket}.#lt = :lt${i}`,
      `${bucket}.#defcap = :defcap${i}`,
      `${bucket}.#defw = :defw${i}`,
      `${bucket}.#cpc = :cpc${i}`,
      `(attribute_not_exists(${bucket}.#hold) OR ${bucket}.#hold <= :now)`,
    );
    sets.push(`${bucket}.#leases.#to${i} = :to${i}`);
    removes.push(`${bucket}.#leases.#from${i}`);
  });
  return {
    Key: key(handOver.pk),
    UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')} ADD #v :one`,
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: marshall(values),
  };
}
