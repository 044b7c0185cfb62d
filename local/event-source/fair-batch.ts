/** A message the local fair-queue equivalent may hand the worker: its id and its message group. */
export interface Candidate {
  readonly id: string;
  /** The message group (the product); `undefined` for a message sent without one. */
  readonly group: string | undefined;
}

/**
 * The batch the local equivalent of SQS fair queues hands the worker: up to `batchSize` of the
 * `candidates` (oldest first), taken round-robin across message groups so that every group with
 * messages waiting gets as many places as the others (give or take one) and a noisy group's
 * backlog cannot fill the batch while another group waits. SQS balances the groups' in-flight
 * messages the same way; with one invocation at a time, the batch is what is in flight.
 * The round starts with the group served longest ago (`lastServed`, a pick number per group),
 * so the odd place goes to each group in turn across batches. A message without a group is a
 * tenant of its own, as SQS fair queues count it, never served before. Within a group the
 * candidates keep their order. Pure: ids in the order picked.
 */
export function chooseFairBatch(
  candidates: readonly Candidate[],
  batchSize: number,
  lastServed: ReadonlyMap<string, number>,
): string[] {
  const lines = new Map<string, string[]>();
  for (const { id, group } of candidates) {
    const key = group === undefined ? `\u0000${id}` : group;
    const line = lines.get(key);
    if (line) line.push(id);
    else lines.set(key, [id]);
  }
  // Pick numbers start at 0, so -1 is "never served". Map keeps insertion order and sort is
  // stable: equally recent groups keep their arrival order.
  const order = [...lines.keys()].sort((a, b) => (lastServed.get(a) ?? -1) - (lastServed.get(b) ?? -1));
  const chosen: string[] = [];
  for (let round = 0; chosen.length < batchSize; round += 1) {
    let tookAny = false;
    for (const key of order) {
      const id = lines.get(key)?.[round];
      if (id === undefined || chosen.length >= batchSize) continue;
      chosen.push(id);
      tookAny = true;
    }
    if (!tookAny) break;
  }
  return chosen;
}
