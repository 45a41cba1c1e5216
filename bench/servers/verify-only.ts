/**
 * Baseline for the ack path: the least a LINE webhook endpoint can do — an express
 * app that reads the raw body, checks `X-Line-Signature` with @line/bot-sdk's
 * `validateSignature`, and answers 200. No parsing, no rules, no store.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateSignature } from '@line/bot-sdk';
import express from 'express';
import { runChild } from '../lib/run-child';

runChild(async () => {
  const secret = process.env.LINE_CHANNEL_SECRET;
  if (!secret) throw new Error('verify-only server: LINE_CHANNEL_SECRET is not set');
  const app = express();
  app.disable('x-powered-by');
  app.post('/webhooks/line', express.raw({ type: () => true, limit: 4 * 1024 * 1024 }), (req, res) => {
    const signature = req.get('x-line-signature');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!signature || !validateSignature(body, secret, signature)) {
      res.status(401).json({ error: 'bad signature' });
      return;
    }
    res.status(200).json({});
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  server.keepAliveTimeout = 5000;
  return {
    port: (server.address() as AddressInfo).port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
});
