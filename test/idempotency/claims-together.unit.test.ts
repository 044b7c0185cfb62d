import { ClaimsTogether } from '../../lambda/idempotency/claims-together';
import { type IdempotencyStore, MemoryIdempotencyStore } from '../../lambda/idempotency/store';
import { countingOwners } from './contract';

const T0 = 1_700_000_000_000;
const EXPIRES = T0 + 60_000;
/** The slot is short: only claims asked for are taken. */
const NO_LOOKAHEAD = { poolSize: () => 5, mayClaimAhead: () => false };

/** The memory store, logging the calls that reach it, failing those named in `failing`. */
function loggedStore(failing: ReadonlySet<string> = new Set()) {
  const store = new MemoryIdempotencyStore(countingOwners());
  const calls: string[] = [];
  const fail = (call: string) => failing.has(call) || failing.has(call.split(' ')[0]!);
  const logged: IdempotencyStore = {
    begin: (id, now, expires) => {
      calls.push(`begin ${id}`);
      return fail(`begin ${id}`)
        ? Promise.reject(new Error(`injected: ${id}`))
        : store.begin(id, now, expires);
    },
    beginAll: (ids, now, expires) => {
      calls.push(`beginAll ${ids.join(',')}`);
      return fail('beginAll')
        ? Promise.reject(new Error('injected: table unreachable'))
        : store.beginAll(ids, now, expires);
    },
    complete: (id, now, json) => store.complete(id, now, json),
    deadLettered: (id, now, json) => store.deadLettered(id, now, json),
    markPublished: (id) => store.markPublished(id),
    abandon: (id, owner) => store.abandon(id, owner),
  };
  return { store, logged, calls };
}

describe('claims asked for together', () => {
  it('go to the store in one request when asked in one turn, each answered as its own begin would be', async () => {
    const { store, logged, calls } = loggedStore();
    await store.complete('done', T0, '{"status":"completed"}');
    await store.begin('live', T0, EXPIRES);
    const claims = new ClaimsTogether(logged, NO_LOOKAHEAD, () => undefined);
    const answers = await Promise.all(
      ['a', 'done', 'live', 'b'].map((id, i) => claims.begin(id, T0 + 10 + i, EXPIRES)),
    );
    expect(calls).toEqual(['beginAll a,done,live,b']);
    expect(answers.map((answer) => answer.state)).toEqual(['started', 'ended', 'in_progress', 'started']);
    // The claims are real: another delivery of `b` finds it held until the expiry.
    expect(await store.begin('b', T0 + 20, EXPIRES)).toEqual({ state: 'in_progress', expiresAtMs: EXPIRES });
  });

  it('take nothing that was not asked for, and a lone ask goes alone', async () => {
    const { logged, calls } = loggedStore();
    const claims = new ClaimsTogether(logged, NO_LOOKAHEAD, () => undefined);
    await claims.begin('a', T0, EXPIRES);
    await claims.begin('b', T0, EXPIRES);
    expect(calls).toEqual(['begin a', 'begin b']);
  });

  it('claim an id asked for twice in one turn once, and the second ask finds the first claim', async () => {
    const { logged, calls } = loggedStore();
    const claims = new ClaimsTogether(logged, NO_LOOKAHEAD, () => undefined);
    const [first, other, second] = await Promise.all([
      claims.begin('a', T0, EXPIRES),
      claims.begin('b', T0, EXPIRES),
      claims.begin('a', T0, EXPIRES),
    ]);
    expect(calls).toEqual(['beginAll a,b', 'begin a']);
    expect([first.state, other.state]).toEqual(['started', 'started']);
    expect(second).toEqual({ state: 'in_progress', expiresAtMs: EXPIRES });
  });

  it('keep claims of different expiries apart', async () => {
    const { logged, calls } = loggedStore();
    const claims = new ClaimsTogether(logged, NO_LOOKAHEAD, () => undefined);
    await Promise.all([
      claims.begin('a', T0, EXPIRES),
      claims.begin('b', T0, EXPIRES + 1),
      claims.begin('c', T0, EXPIRES),
    ]);
    expect(calls).toEqual(['beginAll a,c', 'begin b']);
  });

  it('fall back to one claim each when the request together fails, reported once, and only a failing claim fails', async () => {
    const { logged, calls } = loggedStore(new Set(['beginAll', 'begin b']));
    const failures: string[] = [];
    const claims = new ClaimsTogether(logged, NO_LOOKAHEAD, (_, error) =>
      failures.push((error as Error).message),
    );
    const answers = await Promise.allSettled(['a', 'b', 'c'].map((id) => claims.begin(id, T0, EXPIRES)));
    expect(failures).toEqual(['injected: table unreachable']);
    expect(calls).toEqual(['beginAll a,b,c', 'begin a', 'begin b', 'begin c']);
    expect(answers.map((answer) => answer.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((answers[1] as PromiseRejectedResult).reason).toEqual(new Error('injected: b'));
  });
});

describe('claims taken ahead for the next wave', () => {
  it('are taken in the same request, answer their records once, without a request of their own', async () => {
    const { store, logged, calls } = loggedStore();
    const claims = new ClaimsTogether(
      logged,
      { poolSize: () => 2, mayClaimAhead: () => true },
      () => undefined,
    );
    claims.plan(['a', 'b', 'c', 'd', 'e', 'f']);
    await Promise.all([claims.begin('a', T0, EXPIRES), claims.begin('b', T0, EXPIRES)]);
    expect(calls).toEqual(['beginAll a,b,c,d']);
    // c and d are held for their records already: real claims until the expiry.
    expect(await store.begin('c', T0 + 1, EXPIRES)).toEqual({ state: 'in_progress', expiresAtMs: EXPIRES });
    expect((await claims.begin('c', T0 + 2, EXPIRES)).state).toBe('started');
    expect((await claims.begin('d', T0 + 2, EXPIRES)).state).toBe('started');
    expect(calls).toHaveLength(1);
    // Taken once: asked again, `c` goes to the store and finds its own earlier claim live; the
    // request claims the next wave with it.
    expect((await claims.begin('c', T0 + 3, EXPIRES)).state).toBe('in_progress');
    expect(calls.at(-1)).toBe('beginAll c,e,f');
    expect((await claims.begin('e', T0 + 4, EXPIRES)).state).toBe('started');
    expect(calls).toHaveLength(2);
  });

  it('are not taken while the slot is too short for the next wave to start', async () => {
    const { logged, calls } = loggedStore();
    let time = true;
    const claims = new ClaimsTogether(
      logged,
      { poolSize: () => 3, mayClaimAhead: () => time },
      () => undefined,
    );
    claims.plan(['a', 'b', 'c', 'd']);
    time = false;
    await claims.begin('a', T0, EXPIRES);
    expect(calls).toEqual(['begin a']);
  });

  it('are given back at the end when their records never started, and reported when that fails', async () => {
    const { store, logged, calls } = loggedStore();
    await store.complete('done', T0, '{"status":"completed"}');
    const failures: string[] = [];
    const claims = new ClaimsTogether(logged, { poolSize: () => 3, mayClaimAhead: () => true }, (step) =>
      failures.push(step),
    );
    claims.plan(['a', 'b', 'done', 'c', 'd']);
    await claims.begin('a', T0, EXPIRES);
    expect(calls).toEqual(['beginAll a,b,done,c']);
    await claims.giveBackUnused();
    // b and c went back (done was no claim); `a` is its record's to end; d was never claimed.
    expect((await store.begin('b', T0 + 1, EXPIRES)).state).toBe('started');
    expect((await store.begin('c', T0 + 1, EXPIRES)).state).toBe('started');
    expect((await store.begin('a', T0 + 1, EXPIRES)).state).toBe('in_progress');
    expect(failures).toEqual([]);
    // The next invocation starts from nothing taken.
    await claims.giveBackUnused();
    const failing = loggedStore(new Set(['abandon']));
    const broken = new ClaimsTogether(
      { ...failing.logged, abandon: () => Promise.reject(new Error('injected: DeleteItem failed')) },
      { poolSize: () => 2, mayClaimAhead: () => true },
      (step) => failures.push(step),
    );
    broken.plan(['x', 'y', 'z']);
    await broken.begin('x', T0, EXPIRES);
    await expect(broken.giveBackUnused()).resolves.toBeUndefined();
    expect(failures).toEqual(['claims ahead given back', 'claims ahead given back']);
  });

  it('are left to their records when the request fails', async () => {
    const { logged, calls } = loggedStore(new Set(['beginAll']));
    const claims = new ClaimsTogether(
      logged,
      { poolSize: () => 2, mayClaimAhead: () => true },
      () => undefined,
    );
    claims.plan(['a', 'b', 'c']);
    await claims.begin('a', T0, EXPIRES);
    expect(calls).toEqual(['beginAll a,b,c', 'begin a']);
    // b and c, claimed for the next wave in the failed request, claim on their own when they start.
    await Promise.all([claims.begin('b', T0, EXPIRES), claims.begin('c', T0, EXPIRES)]);
    expect(calls.slice(2)).toEqual(['begin b', 'begin c']);
  });

  it('answer a record that starts while their request is still in flight, with no request of its own', async () => {
    const { logged, calls } = loggedStore();
    let answer: () => void = () => {};
    const slow: IdempotencyStore = {
      ...logged,
      beginAll: async (ids, now, expires) => {
        await new Promise<void>((resolve) => {
          answer = resolve;
        });
        return logged.beginAll(ids, now, expires);
      },
    };
    const claims = new ClaimsTogether(
      slow,
      { poolSize: () => 2, mayClaimAhead: () => true },
      () => undefined,
    );
    claims.plan(['a', 'b', 'c']);
    const first = claims.begin('a', T0, EXPIRES);
    await new Promise((resolve) => setImmediate(resolve));
    // b's record starts before the request for a, b and c has answered.
    const second = claims.begin('b', T0 + 1, EXPIRES);
    answer();
    expect([(await first).state, (await second).state]).toEqual(['started', 'started']);
    expect(calls).toEqual(['beginAll a,b,c']);
  });
});
