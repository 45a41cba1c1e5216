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
  const auth = createAdminAuth(TOKEN);
  const cookieOf = (value: string) => ({ cookie: `autotag_admin=${value}` });

  it('a new session cookie is signed, does not contain the token, and names its session only by a hash', () => {
    const session = auth.newSession();
    expect(session.cookie).not.toContain(TOKEN);
    expect(session.cookie).toMatch(/^v1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/);
    const id = session.cookie.split('.')[1]!;
    expect(session.idHash).toMatch(/^[0-9a-f]{64}$/);
    expect(session.idHash).not.toContain(id);
    expect(auth.credentials({ cookie: `other=1; autotag_admin=${session.cookie}` })).toEqual({ kind: 'cookie', cookie: session.cookie, idHash: session.idHash });
    // Two sessions never share an id.
    expect(auth.newSession().idHash).not.toBe(session.idHash);
    // Whether it is still open (not logged out, not expired) is the store's to say: see admin.test.ts.
  });

  it('refuses a cookie signed with another token, a tampered one, and the stateless cookies of earlier releases', () => {
    const other = createAdminAuth('a-different-token-0123456789');
    expect(auth.tokenCheck).not.toBe(other.tokenCheck);
    expect(auth.credentials(cookieOf(other.newSession().cookie))).toMatchObject({ kind: 'cookie', idHash: undefined });
    const [v, id, mac] = auth.newSession().cookie.split('.') as [string, string, string];
    const otherId = (id[0] === '0' ? '1' : '0') + id.slice(1);
    expect(auth.credentials(cookieOf(`${v}.${otherId}.${mac}`))).toMatchObject({ kind: 'cookie', idHash: undefined });
    const otherMac = mac.slice(0, -1) + (mac.endsWith('A') ? 'B' : 'A');
    expect(auth.credentials(cookieOf(`${v}.${id}.${otherMac}`))).toMatchObject({ kind: 'cookie', idHash: undefined });
    expect(auth.credentials(cookieOf('v1.mi8k2x3c.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'))).toMatchObject({ kind: 'cookie', idHash: undefined });
    expect(auth.credentials(cookieOf(TOKEN))).toMatchObject({ kind: 'cookie', idHash: undefined });
  });

  it('checks Bearer tokens exactly, and a wrong one is refused even with a good cookie', () => {
    expect(auth.credentials({ authorization: `Bearer ${TOKEN}` })).toEqual({ kind: 'bearer', ok: true });
    expect(auth.credentials({ authorization: `bearer ${TOKEN}` })).toMatchObject({ ok: true });
    expect(auth.credentials({ authorization: `Bearer ${TOKEN}x` })).toMatchObject({ ok: false });
    expect(auth.credentials({ authorization: `Bearer ${TOKEN.slice(0, -1)}` })).toMatchObject({ ok: false });
    expect(auth.credentials({ authorization: `  Bearer   ${TOKEN}  ` })).toEqual({ kind: 'bearer', ok: true });
    expect(auth.credentials({ authorization: 'Bearer' })).toEqual({ kind: 'bearer', ok: false, reason: 'the Authorization header is "Bearer" with no token' });
    // Another scheme (a proxy's Basic password) is no guess at ADMIN_TOKEN: left aside, the cookie decides.
    expect(auth.credentials({ authorization: `Basic ${TOKEN}` })).toEqual({ kind: 'none', otherScheme: true });
    const session = auth.newSession();
    expect(auth.credentials({ authorization: 'Basic b3BzOnB3', cookie: `autotag_admin=${session.cookie}` })).toEqual({
      kind: 'cookie',
      cookie: session.cookie,
      idHash: session.idHash,
    });
    expect(auth.credentials({ authorization: 'Bearer wrong', cookie: `autotag_admin=${auth.newSession().cookie}` })).toEqual({ kind: 'bearer', ok: false, reason: 'wrong Bearer token' });
    expect(auth.credentials({})).toEqual({ kind: 'none' });
  });

  it('the CSRF value belongs to one session', () => {
    const a = auth.newSession().cookie;
    const b = auth.newSession().cookie;
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
