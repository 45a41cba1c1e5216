import type { RequestHandler } from 'express';
import { timingSafeEqual } from 'node:crypto';

/**
 * GET /webhooks/facebook — Meta's subscription check: `hub.mode=subscribe` with the
 * right `hub.verify_token` gets `hub.challenge` back as the plain body; anything
 * else (also an unset FACEBOOK_VERIFY_TOKEN) is 403.
 * https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
 */
export function facebookVerifyRoute(verifyToken: string | undefined): RequestHandler {
  return (req, res) => {
    const mode = req.query['hub.mode'];
    const token = req.query['hub.verify_token'];
    const challenge = req.query['hub.challenge'];
    if (verifyToken && mode === 'subscribe' && typeof token === 'string' && sameString(token, verifyToken) && typeof challenge === 'string') {
      res.status(200).type('text/plain').send(challenge);
      return;
    }
    res.status(403).json({
      error: verifyToken ? 'hub.mode must be subscribe and hub.verify_token must match FACEBOOK_VERIFY_TOKEN' : 'FACEBOOK_VERIFY_TOKEN is not set',
    });
  };
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
