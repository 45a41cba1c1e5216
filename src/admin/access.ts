import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Logger } from '../log';
import { answerWithin } from '../store/shared/answer-within';
import { StoreUnavailableError, type Store } from '../store/store';
import { clearedSessionCookie, createAdminAuth, sessionCookie } from './auth';
import { base, field, wantsPage } from './request';
import { createAdminSessions } from './sessions';
import { clientKey, FailureThrottle } from './throttle';
import { loginPage } from './views/login';

/**
 * Who may use /admin (CONTRACT.md "/admin"): a request with the right Bearer token, or
 * a browser whose session (started by the login form) is open in the store.
 *
 * Wrong tokens — from the Authorization header and the login form alike — are counted
 * per client address (as TRUST_PROXY_HOPS derives it); after ten in a minute that
 * client gets 429 with Retry-After for a minute, whatever token it sends, and when it sends
 * none. A session cookie is no token and is not refused meanwhile: it cannot be guessed (it is signed),
 * and someone behind the same address as a guesser keeps working.
 */

export type Access = { via: 'bearer' } | { via: 'session'; cookie: string; idHash: string; csrf: string };

export interface AdminAccess {
  /** POST /login (after the form parser): the right token opens a session and sets its cookie. */
  login: RequestHandler;
  /** Before every route that shows data: lets the request through, or answers 401 (429 while its client is blocked). */
  require: RequestHandler;
  /** Forms posted with the session cookie must carry its CSRF value; Bearer requests cannot be forged by another site. */
  csrf: RequestHandler;
  /** POST /logout: ends this session on the server and clears the cookie. */
  logout: RequestHandler;
}

export interface AdminAccessDeps {
  token: string;
  store: Store;
  log: Logger;
  now: () => number;
}

/**
 * How long /admin waits for the store (a session's check, start and end; the page's views)
 * before it says the store does not answer: a database that went silent would otherwise hold
 * the page for the query timeout (5–11 s). A session write cut off here may still land (a
 * logout says so). A retry is awaited to the end.
 */
export const ADMIN_STORE_WAIT_MS = 3_000;

export function createAdminAccess(deps: AdminAccessDeps): AdminAccess {
  const { log, now } = deps;
  const auth = createAdminAuth(deps.token);
  const sessions = createAdminSessions({ store: deps.store, auth, now, log });
  const throttle = new FailureThrottle({ now });

  function wrongToken(req: Request, client: string, reason: string): void {
    log.warn(req.path === '/login' ? 'admin login refused: wrong token' : 'admin request refused: wrong token', { ip: req.ip, reason });
    if (throttle.failed(client)) {
      log.warn('admin client blocked: too many wrong tokens', { ip: req.ip, client, failures: throttle.maxFailures, seconds: throttle.blockMs / 1000 });
    }
  }

  function tooMany(req: Request, res: Response, waitMs: number, page: boolean): void {
    const seconds = Math.ceil(waitMs / 1000);
    log.debug('admin request refused: client blocked', { ip: req.ip, seconds });
    res.set('retry-after', String(seconds));
    if (page) {
      res.status(429).type('html').send(loginPage(base(req), `Too many wrong tokens from your address: try again in ${seconds} s.`).value);
    } else {
      res.status(429).json({ error: `too many wrong admin tokens from this address: try again in ${seconds} s` });
    }
  }

  function unauthorized(req: Request, res: Response, reason: string): void {
    log.debug('admin request refused', { method: req.method, path: req.originalUrl.split('?')[0], reason });
    res.set('www-authenticate', 'Bearer realm="chat-autotag admin"');
    if (wantsPage(req)) {
      const ended = reason.startsWith('the session cookie');
      res.status(401).type('html').send(loginPage(base(req), ended ? 'Your session has expired or was logged out: log in again.' : undefined).value);
    } else {
      res.status(401).json({ error: `unauthorized (${reason}): send Authorization: Bearer <ADMIN_TOKEN> or log in at ${base(req)}/login` });
    }
  }

  /** Sessions live in the store: while it does not answer, say so (503) and point at the Bearer token, which needs no store. */
  function storeDown(req: Request, res: Response, err: StoreUnavailableError, what: string): void {
    log.warn(`admin: the store does not answer, ${what}`, { error: err.message });
    const message = `The store does not answer (${err.message}), so ${what}: send Authorization: Bearer <ADMIN_TOKEN>, which needs no store, or try again later.`;
    if (req.method === 'POST' || wantsPage(req)) res.status(503).type('html').send(loginPage(base(req), message).value);
    else res.status(503).json({ error: message });
  }

  return {
    async login(req, res) {
      const client = clientKey(req.ip);
      const wait = throttle.blockedFor(client);
      if (wait > 0) return tooMany(req, res, wait, true);
      const candidate = field(req, 'token');
      if (candidate === undefined || !auth.tokenMatches(candidate)) {
        wrongToken(req, client, 'wrong token in the login form');
        res.status(401).type('html').send(loginPage(base(req), 'That is not the admin token.').value);
        return;
      }
      throttle.succeeded(client);
      let cookie: string;
      try {
        cookie = await answerWithin(sessions.open(), ADMIN_STORE_WAIT_MS);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        return storeDown(req, res, err, 'no session can be started');
      }
      log.info('admin logged in', { ip: req.ip });
      res.set('set-cookie', sessionCookie(cookie, base(req)));
      res.redirect(303, base(req));
    },

    async require(req, res, next) {
      const credentials = auth.credentials(req.headers);
      if (credentials.kind === 'bearer') {
        const client = clientKey(req.ip);
        const wait = throttle.blockedFor(client);
        if (wait > 0) return tooMany(req, res, wait, wantsPage(req));
        if (!credentials.ok) {
          wrongToken(req, client, credentials.reason);
          return unauthorized(req, res, credentials.reason);
        }
        throttle.succeeded(client);
        res.locals.access = { via: 'bearer' } satisfies Access;
        return next();
      }
      if (credentials.kind === 'cookie') {
        const { cookie, idHash } = credentials;
        let open = false;
        try {
          open = idHash !== undefined && (await answerWithin(sessions.isOpen(idHash), ADMIN_STORE_WAIT_MS));
        } catch (err) {
          if (!(err instanceof StoreUnavailableError)) throw err;
          return storeDown(req, res, err, 'the session cannot be checked');
        }
        if (idHash === undefined || !open) {
          return unauthorized(req, res, 'the session cookie is invalid, expired or logged out');
        }
        res.locals.access = { via: 'session', cookie, idHash, csrf: auth.csrfFor(cookie) } satisfies Access;
        return next();
      }
      // No token at all: while its client is blocked, the wait is the more useful answer.
      const wait = throttle.blockedFor(clientKey(req.ip));
      if (wait > 0) return tooMany(req, res, wait, wantsPage(req));
      unauthorized(
        req,
        res,
        !credentials.otherScheme
          ? 'no Bearer token and no session cookie'
          : // Not its text: it may be a password of a proxy in front, or the token sent without "Bearer".
            'no Bearer token (the Authorization header holds another scheme, left aside) and no session cookie',
      );
    },

    csrf(req: Request, res: Response, next: NextFunction) {
      const access = accessOf(res);
      if (access.via === 'session' && !auth.csrfMatches(access.cookie, field(req, 'csrf') ?? '')) {
        res.status(403).json({ error: `the form's csrf value is missing or stale: reload ${base(req)} and try again` });
        return;
      }
      next();
    },

    async logout(req, res) {
      const access = accessOf(res);
      if (access.via === 'session') {
        try {
          await answerWithin(sessions.close(access.idHash), ADMIN_STORE_WAIT_MS);
        } catch (err) {
          if (!(err instanceof StoreUnavailableError)) throw err;
          // The cookie is kept: cleared here, it would look logged out while the session, a
          // copy of the cookie included, still worked on the server.
          return storeDown(req, res, err, 'the session may still be open: log out again once it answers');
        }
        log.info('admin logged out', { ip: req.ip });
      }
      res.set('set-cookie', clearedSessionCookie(base(req)));
      res.redirect(303, `${base(req)}/login`);
    },
  };
}

/** The access `require` granted; only reachable behind it (a route mounted before it is a programming error). */
export function accessOf(res: Response): Access {
  const access = res.locals.access as Access | undefined;
  if (!access) throw new Error('admin route reached without an access check');
  return access;
}
