import type { RequestHandler } from 'express';
import { timingSafeEqual } from 'node:crypto';
import type { ConfiguredEndpoint } from '../config';
import { notSet, type VariableChain } from '../platforms/endpoints';

/**
 * GET on a Meta endpoint — Meta's subscription check: `hub.mode=subscribe` with the
 * right `hub.verify_token` gets `hub.challenge` back as the plain body; anything
 * else (also an endpoint without a verify token) is 403.
 * https://developers.facebook.com/docs/graph-api/webhooks/getting-started#verification-requests
 */
export function subscriptionCheckRoute(endpoint: ConfiguredEndpoint): RequestHandler {
  const { verifyToken } = endpoint;
  const variables: VariableChain = endpoint.definition.verifyToken ?? ['the verify token'];
  // A chain names where the token comes from: the first variable, else the ones after it.
  const source = variables.length === 1 ? variables[0] : `${variables[0]} (when unset, ${variables.slice(1).join(', ')})`;
  return (req, res) => {
    const mode = req.query['hub.mode'];
    const token = req.query['hub.verify_token'];
    const challenge = req.query['hub.challenge'];
    const verified = !!verifyToken && mode === 'subscribe' && typeof token === 'string' && sameString(token, verifyToken);
    if (verified && typeof challenge === 'string') {
      res.status(200).type('text/plain').send(challenge);
      return;
    }
    res.status(403).json({
      error: !verifyToken
        ? notSet(variables)
        : verified
          ? `hub.challenge must be given once (got ${challenge === undefined ? 'none' : 'several'}): it is the text answered back`
          : `hub.mode must be subscribe and hub.verify_token must match ${source}`,
    });
  };
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
