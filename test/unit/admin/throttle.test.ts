import { clientKey, FailureThrottle } from '../../../src/admin/throttle';

describe('FailureThrottle', () => {
  it('blocks a client for a minute at its 10th failure within a minute, then forgets it', () => {
    let now = 0;
    const t = new FailureThrottle({ now: () => now });
    for (let i = 0; i < 9; i++) expect(t.failed('a')).toBe(false);
    expect(t.blockedFor('a')).toBe(0);
    expect(t.failed('a')).toBe(true);
    expect(t.blockedFor('a')).toBe(60_000);
    expect(t.blockedFor('b')).toBe(0);
    now += 59_999;
    expect(t.blockedFor('a')).toBe(1);
    now += 1;
    expect(t.blockedFor('a')).toBe(0);
    expect(t.size).toBe(0);
  });

  it('counts only the failures of the last minute', () => {
    let now = 0;
    const t = new FailureThrottle({ now: () => now });
    for (let i = 0; i < 9; i++) t.failed('a');
    now += 60_000;
    expect(t.failed('a')).toBe(false);
    for (let i = 0; i < 8; i++) expect(t.failed('a')).toBe(false);
    expect(t.failed('a')).toBe(true);
  });

  it('remembers at most maxClients clients, forgetting the one whose last failure is oldest', () => {
    const now = 0;
    const t = new FailureThrottle({ now: () => now, maxClients: 1000 });
    for (let i = 0; i < 10; i++) t.failed('first');
    for (let i = 0; i < 998; i++) t.failed(`spray-${i}`);
    for (let i = 0; i < 10; i++) t.failed('last');
    expect(t.size).toBe(1000);
    expect(t.blockedFor('first')).toBe(60_000);
    t.failed('one-more');
    expect(t.size).toBe(1000);
    expect(t.blockedFor('first')).toBe(0);
    expect(t.blockedFor('last')).toBe(60_000);
    // A flood of fresh addresses cannot grow it past the bound.
    for (let i = 0; i < 100_000; i++) t.failed(`flood-${i}`);
    expect(t.size).toBe(1000);
  });
});

describe('clientKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::99', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ])('%s → %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });

  it('has a key for a request without an address', () => {
    expect(clientKey(undefined)).toBe('unknown');
  });
});
