import type { Request } from 'express';

/** Reading an /admin request: where the router is mounted, form fields, query values, and what the client wants back. */

/** The path the router is mounted at (`/admin`). */
export function base(req: Request): string {
  return req.baseUrl || '/';
}

export function query(req: Request, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  return typeof v === 'string' ? v : undefined;
}

export function field(req: Request, name: string): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const v = body?.[name];
  return typeof v === 'string' ? v : undefined;
}

/** A browser asking for a page (answered in HTML), rather than a script (answered in JSON). */
export function wantsPage(req: Request): boolean {
  return req.method === 'GET' && !req.path.endsWith('.json') && req.accepts(['json', 'html']) === 'html';
}
