/**
 * Baseline for forward latency: the simplest relay — an express handler that checks
 * the signature and sends the raw body straight to the downstream (the same undici
 * keep-alive client the service uses), then answers 200. No store, no queue, no
 * ordering, nothing survives a crash: the fastest a relay can be.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateSignature } from '@line/bot-sdk';
import express from 'express';
import { Agent, request } from 'undici';
import { runChild } from '../lib/run-child';

runChild(async () => {
  const secret = process.env.LINE_CHANNEL_SECRET;
  const downstream = process.env.LINE_FORWARD_URLS;
  if (!secret || !downstream) throw new Error('inline-forward server: LINE_CHANNEL_SECRET and LINE_FORWARD_URLS must be set');
  const agent = new Agent({ keepAliveTimeout: 30_000, connections: 8 });
  const app = express();
  app.disable('x-powered-by');
  app.post('/webhooks/line', express.raw({ type: () => true, limit: 4 * 1024 * 1024 }), async (req, res) => {
    const signature = req.get('x-line-signature');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!signature || !validateSignature(body, secret, signature)) {
      res.status(401).json({ error: 'bad signature' });
      return;
    }
    try {
      const answer = await request(downstream, {
        method: 'POST',
        body,
        headers: { 'content-type': req.get('content-type') ?? 'application/json', 'x-line-signature': signature },
        dispatcher: agent,
      });
      await answer.body.text();
      res.status(answer.statusCode < 300 ? 200 : 502).json({});
    } catch {
      res.status(502).json({});
    }
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  server.keepAliveTimeout = 5000;
  return {
    port: (server.address() as AddressInfo).port,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await agent.close();
    },
  };
});
