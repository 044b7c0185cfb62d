import { ClaimsAhead } from '../../lambda/idempotency/claims-ahead';
import { type IdempotencyStore, MemoryIdempotencyStore } from '../../lambda/idempotency/store';
import { countingOwners } from './contract';

const T0 = 1_700_000_000_000;
const EXPIRES = T0 + 60_000;

/** The memory store, counting the calls that reach it (and failing those named in `failing`). */
function countedStore(failing: ReadonlySet<string> = new Set()) {
  const store = new MemoryIdempotencyStore(countingOwners());
  const calls: string[] = [];
  const counted: IdempotencyStore = {
    begin: (id, now, expires) => {
      calls.push(`begin ${id}`);
      return store.begin(id, now, expires);
    },
    beginAll: (ids, now, expires) => {
      calls.push(`beginAll ${ids.join(',')}`);
      return failing.has('beginAll')
        ? Promise.reject(new Error('injected: table unreachable'))
        : store.beginAll(ids, now, expires);
    },
    complete: (id, now, json) => store.complete(id, now, json),
    deadLettered: (id, now, json) => store.deadLettered(id, now, json),
    markPublished: (id) => store.markPublished(id),
    abandon: (id, owner) => {
      calls.push(`abandon ${id}`);
      return failing.has('abandon')
        ? Promise.reject(new Error('injected: DeleteItem failed'))
        : store.abandon(id, owner);
    },
  };
  return { store, counted, calls };
}

describe('claims taken ahead for a batch', () => {
  it('answers each record from one claim of the batch, once, and the store sees a single request', async () => {
    const { store, counted, calls } = countedStore();
    const failures: unknown[] = [];
    const claims = new ClaimsAhead(counted, (_, error) => failures.push(error));
    await claims.take(['a', 'b', 'c'], T0, EXPIRES);
    const answers = await Promise.all(['a', 'b', 'c'].map((id) => claims.begin(id, T0 + 1, EXPIRES)));
    expect(answers.map((answer) => answer.state)).toEqual(['started', 'started', 'started']);
    expect(calls).toEqual(['beginAll a,b,c']);
    // The claims are real: another delivery of `b` finds it held until the expiry.
    expect(await store.begin('b', T0 + 2, EXPIRES)).toEqual({ state: 'in_progress', expiresAtMs: EXPIRES });
    // Taken once: a second record with the same id asks the store, and finds the first's claim.
    expect(await claims.begin('a', T0 + 3, EXPIRES)).toEqual({ state: 'in_progress', expiresAtMs: EXPIRES });
    expect(failures).toEqual([]);
  });

  it('names an id twice in a batch once, and leaves a batch of one id to its record', async () => {
    const { counted, calls } = countedStore();
    const claims = new ClaimsAhead(counted, () => undefined);
    await claims.take(['a', 'a'], T0, EXPIRES);
    await claims.take(['b', 'c', 'b'], T0, EXPIRES);
    expect(calls).toEqual(['beginAll b,c']);
    expect((await claims.begin('a', T0, EXPIRES)).state).toBe('started');
    expect(calls.at(-1)).toBe('begin a');
  });

  it('gives back at the end every claim no record took, so the next delivery starts at once', async () => {
    const { store, counted, calls } = countedStore();
    const claims = new ClaimsAhead(counted, () => undefined);
    await store.complete('done', T0, '{"status":"completed"}');
    await claims.take(['a', 'b', 'done'], T0, EXPIRES);
    await claims.begin('a', T0, EXPIRES);
    await claims.giveBackUnused();
    // `b` never started: its claim went back; `a` is its record's to end; `done` was no claim.
    expect(calls.filter((call) => call.startsWith('abandon'))).toEqual(['abandon b']);
    expect((await store.begin('b', T0 + 1, EXPIRES)).state).toBe('started');
    expect((await store.begin('a', T0 + 1, EXPIRES)).state).toBe('in_progress');
    // The next invocation starts from nothing taken.
    await claims.giveBackUnused();
    expect(calls.filter((call) => call.startsWith('abandon'))).toHaveLength(1);
  });

  it('falls back to each record claiming on its own when the batch claim fails, and reports it', async () => {
    const { counted, calls } = countedStore(new Set(['beginAll']));
    const failures: string[] = [];
    const claims = new ClaimsAhead(counted, (step, error) =>
      failures.push(`${step}: ${(error as Error).message}`),
    );
    await claims.take(['a', 'b'], T0, EXPIRES);
    expect(failures).toEqual(['claims ahead: injected: table unreachable']);
    expect((await claims.begin('a', T0, EXPIRES)).state).toBe('started');
    expect(calls).toEqual(['beginAll a,b', 'begin a']);
  });

  it('reports a give-back that failed and goes on with the others, never throwing', async () => {
    const { counted } = countedStore(new Set(['abandon']));
    const failures: string[] = [];
    const claims = new ClaimsAhead(counted, (step) => failures.push(step));
    await claims.take(['a', 'b'], T0, EXPIRES);
    await expect(claims.giveBackUnused()).resolves.toBeUndefined();
    expect(failures).toEqual(['claims ahead given back', 'claims ahead given back']);
  });
});
