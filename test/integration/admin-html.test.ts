import fc from 'fast-check';
import { clearedSessionCookie, cookieValue, createAdminAuth, SESSION_MS, sessionCookie } from '../../src/admin/auth';
import { flashMessage, retryFlash } from '../../src/admin/flash';
import { escapeHtml, html, pathWith, SafeHtml } from '../../src/admin/html';

/** Undoes escapeHtml, to check that escaping loses nothing. */
const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

describe('html tagged template', () => {
  it('escapes every interpolated string', () => {
    const hostile = `<script>alert(1)</script>" onmouseover='x' &amp;`;
    const out = html`<td title="${hostile}">${hostile}</td>`.value;
    expect(out).toBe(
      '<td title="&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&#39;x&#39; &amp;amp;">&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&#39;x&#39; &amp;amp;</td>',
    );
  });

  it('keeps nested html as it is, escapes the strings inside it once, and renders arrays item by item', () => {
    const items = ['<b>', 'a&b'];
    const out = html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`.value;
    expect(out).toBe('<ul><li>&lt;b&gt;</li><li>a&amp;b</li></ul>');
    expect(html`${['<i>', 1, html`<br>`]}`.value).toBe('&lt;i&gt;1<br>');
  });

  it('renders false, null and undefined as nothing and numbers as text', () => {
    const shown = false as boolean;
    expect(html`[${shown && html`<em>x</em>`}${null}${undefined}${0}${42}]`.value).toBe('[042]');
  });

  it('returns SafeHtml, which is passed through unescaped only when it is SafeHtml', () => {
    const fragment = html`<em>${'<x>'}</em>`;
    expect(fragment).toBeInstanceOf(SafeHtml);
    expect(html`${fragment}`.value).toBe('<em>&lt;x&gt;</em>');
    expect(html`${fragment.value}`.value).toBe('&lt;em&gt;&amp;lt;x&amp;gt;&lt;/em&gt;');
  });

  it('for any string: no markup character survives, and nothing is lost', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const inner = html`${s}`.value;
        expect(inner).not.toMatch(/[<>"']/);
        expect(unescape(inner)).toBe(s);
        expect(escapeHtml(s)).toBe(inner);
      }),
    );
  });

  it('pathWith encodes query values and leaves out undefined ones', () => {
    expect(pathWith('/admin', { user: 'U1&x=<y>', none: undefined })).toBe('/admin?user=U1%26x%3D%3Cy%3E');
    expect(pathWith('/admin')).toBe('/admin');
  });
});

describe('flash after a retry', () => {
  it('round-trips through the redirect query', () => {
    const q = new URLSearchParams(retryFlash(1, 'op-12'));
    expect(flashMessage(q.get('retried') ?? undefined, q.get('which') ?? undefined)).toBe('Queued op-12 again.');
    expect(flashMessage('3', 'all')).toBe('Queued 3 dead letters again.');
    expect(flashMessage('0', 'fwd-4')).toBe('fwd-4 is not a dead letter (any more): nothing was queued.');
  });

  it('shows nothing for anything but a count and an id (no text can be planted through a link)', () => {
    expect(flashMessage('1', 'Your token expired, log in at evil.example')).toBeUndefined();
    expect(flashMessage('1e3', 'all')).toBeUndefined();
    expect(flashMessage(undefined, 'all')).toBeUndefined();
  });
});

describe('admin session', () => {
  const TOKEN = 'session-test-token-0123456789';
  let clock = 1_764_000_000_000;
  const auth = createAdminAuth(TOKEN, () => clock);

  it('a new session is accepted, does not contain the token, and expires after SESSION_MS', () => {
    clock = 1_764_000_000_000;
    const session = auth.newSession();
    expect(session).not.toContain(TOKEN);
    const access = auth.check({ cookie: `other=1; autotag_admin=${session}` });
    expect(access).toEqual({ ok: true, via: 'session', session, csrf: auth.csrfFor(session) });
    clock += SESSION_MS - 1;
    expect(auth.check({ cookie: `autotag_admin=${session}` }).ok).toBe(true);
    clock += 2;
    expect(auth.check({ cookie: `autotag_admin=${session}` })).toEqual({ ok: false, reason: 'the session cookie is invalid or expired' });
  });

  it('refuses a session made with another token, a tampered one, and one from the future', () => {
    clock = 1_764_000_000_000;
    const other = createAdminAuth('a-different-token-0123456789', () => clock).newSession();
    expect(auth.check({ cookie: `autotag_admin=${other}` }).ok).toBe(false);
    const good = auth.newSession();
    const [v, issued, mac] = good.split('.') as [string, string, string];
    const later = (parseInt(issued, 36) + 3600_000).toString(36);
    expect(auth.check({ cookie: `autotag_admin=${v}.${later}.${mac}` }).ok).toBe(false);
    clock -= 10 * 60_000;
    expect(auth.check({ cookie: `autotag_admin=${good}` }).ok).toBe(false);
  });

  it('checks Bearer tokens exactly, and a wrong one is refused even with a good cookie', () => {
    clock = 1_764_000_000_000;
    expect(auth.check({ authorization: `Bearer ${TOKEN}` })).toEqual({ ok: true, via: 'bearer' });
    expect(auth.check({ authorization: `bearer ${TOKEN}` }).ok).toBe(true);
    expect(auth.check({ authorization: `Bearer ${TOKEN}x` }).ok).toBe(false);
    expect(auth.check({ authorization: `Bearer ${TOKEN.slice(0, -1)}` }).ok).toBe(false);
    expect(auth.check({ authorization: `Basic ${TOKEN}` })).toEqual({ ok: false, reason: 'the Authorization header is not "Bearer <token>"' });
    expect(auth.check({ authorization: 'Bearer wrong', cookie: `autotag_admin=${auth.newSession()}` })).toEqual({ ok: false, reason: 'wrong Bearer token' });
    expect(auth.check({})).toEqual({ ok: false, reason: 'no Bearer token and no session cookie' });
  });

  it('the CSRF value belongs to one session', () => {
    clock = 1_764_000_000_000;
    const a = auth.newSession();
    clock += 1000;
    const b = auth.newSession();
    expect(auth.csrfMatches(a, auth.csrfFor(a))).toBe(true);
    expect(auth.csrfMatches(a, auth.csrfFor(b))).toBe(false);
    expect(auth.csrfMatches(a, '')).toBe(false);
  });

  it('cookies are HttpOnly, Secure and SameSite=Strict, scoped to the admin path', () => {
    expect(sessionCookie('v', '/admin')).toBe(`autotag_admin=v; Path=/admin; Max-Age=${SESSION_MS / 1000}; HttpOnly; Secure; SameSite=Strict`);
    expect(clearedSessionCookie('/admin')).toMatch(/^autotag_admin=; Path=\/admin; Max-Age=0;/);
    expect(cookieValue('a=1; autotag_admin=xyz ; b=2', 'autotag_admin')).toBe('xyz');
    expect(cookieValue('xautotag_admin=1', 'autotag_admin')).toBeUndefined();
  });
});
