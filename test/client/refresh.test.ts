import { CredentialError } from '../../lib/client';
import { Refreshing, refreshTime, tokenCache } from '../../lib/client/internal/refresh';

// The caching rules on an injected clock: exact, and independent of how loaded the machine is.
// The client tests prove the same wiring end to end against the loopback STS and token servers.

const MINUTE = 60_000;
const T0 = Date.UTC(2025, 0, 1);

function fakeClock() {
  let now = T0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** A loader counting its calls, handing out values 1, 2, 3... that live `lifetimeMs` on `clock`. */
function counter(clock: () => number, lifetimeMs: number) {
  let loads = 0;
  const gates: (() => void)[] = [];
  const load = async () => {
    loads += 1;
    const value = loads;
    await new Promise<void>((resolve) => gates.push(resolve));
    return { value, refreshAt: refreshTime(clock() + lifetimeMs, clock()) };
  };
  return { load, loads: () => loads, release: () => gates.splice(0).forEach((open) => open()) };
}

test.each([
  ['an hour-long credential: 5 minutes before expiry', 60 * MINUTE, 55 * MINUTE],
  ['a 6-minute credential: at half life, not 1 minute in', 6 * MINUTE, 3 * MINUTE],
  ['a 2-second token: at half life', 2000, 1000],
])('refreshTime for %s', (_what, lifetime, after) => {
  expect(refreshTime(T0 + lifetime, T0)).toBe(T0 + after);
  expect(refreshTime(T0 + lifetime, T0)).toBeLessThan(T0 + lifetime);
});

test('concurrent first callers share one load; the value is kept until its refresh time, then reloaded once', async () => {
  const clock = fakeClock();
  const loader = counter(clock.now, 60 * MINUTE);
  const cache = new Refreshing(loader.load, clock.now);
  const first = Promise.all([cache.get(), cache.get(), cache.get()]);
  expect(cache.peek()).toBeUndefined();
  loader.release();
  expect(await first).toEqual([1, 1, 1]);
  expect(loader.loads()).toBe(1);

  clock.advance(55 * MINUTE - 1);
  expect(cache.peek()).toBe(1);
  expect(await cache.get()).toBe(1);
  clock.advance(1);
  expect(cache.peek()).toBeUndefined();
  const refreshed = Promise.all([cache.get(), cache.get()]);
  loader.release();
  expect(await refreshed).toEqual([2, 2]);
  expect(loader.loads()).toBe(2);
});

test('a failed load is not kept: every waiting caller sees the error, the next call loads again', async () => {
  const clock = fakeClock();
  let fail = true;
  let loads = 0;
  const cache = new Refreshing(async () => {
    loads += 1;
    if (fail) throw new Error('refused');
    return { value: 'ok', refreshAt: clock.now() + MINUTE };
  }, clock.now);
  await expect(Promise.all([cache.get(), cache.get()])).rejects.toThrow('refused');
  expect(loads).toBe(1);
  fail = false;
  expect(await cache.get()).toBe('ok');
  expect(loads).toBe(2);
});

describe('tokenCache', () => {
  test('a token is reused until its refresh time, judged on the given clock', async () => {
    const clock = fakeClock();
    let issued = 0;
    const cache = tokenCache('test token', async () => ({ token: `t${++issued}`, expiresAt: new Date(clock.now() + 10 * MINUTE) }), clock.now);
    expect((await cache.get()).token).toBe('t1');
    clock.advance(5 * MINUTE - 1);
    expect((await cache.get()).token).toBe('t1');
    clock.advance(1);
    expect((await cache.get()).token).toBe('t2');
  });

  test('a token of unknown lifetime is used once', async () => {
    let issued = 0;
    const cache = tokenCache('test token', async () => ({ token: `t${++issued}` }), fakeClock().now);
    expect((await cache.get()).token).toBe('t1');
    expect((await cache.get()).token).toBe('t2');
  });

  test('a token that arrives expired is refused as a clock problem', async () => {
    const clock = fakeClock();
    const cache = tokenCache('test token', async () => ({ token: 't', expiresAt: new Date(clock.now()) }), clock.now);
    const err = await cache.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect(err).toMatchObject({ code: 'BAD_RESPONSE', message: 'the test token received expired at 2025-01-01T00:00:00.000Z, before it arrived; check this machine\'s clock' });
  });
});
