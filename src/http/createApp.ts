import type { ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type RequestHandler, type Router } from 'express';
import type { Logger } from '../logger';
import { describeError } from '../errors';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

/**
 * The one Express app every channel mounts on: health and readiness, the channels' routers, and one error boundary
 * that turns body-parser errors into 400/413 and everything else into a 500 logged without personal data.
 */
export function createApp(deps: { routers: Router[]; readiness: ReadinessCheck[]; log: Logger; isShuttingDown: () => boolean }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  app.use(securityHeaders);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    if (deps.isShuttingDown()) {
      res.status(503).json({ status: 'shutting-down' });
      return;
    }
    const results = await Promise.all(
      deps.readiness.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), 2000, `${name} did not answer within 2 s`);
          return [name, 'ok'] as const;
        } catch (err) {
          return [name, describeError(err).message] as const;
        }
      }),
    );
    const down = results.filter(([, r]) => r !== 'ok').map(([name]) => name);
    res.status(down.length === 0 ? 200 : 503).json({ status: down.length === 0 ? 'ok' : 'unavailable', down, checks: Object.fromEntries(results) });
  });

  for (const router of deps.routers) app.use(router);

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });

  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    const e = err as { type?: string; status?: number };
    if (e.type === 'entity.too.large') {
      res.status(413).json({ error: 'payload_too_large', message: 'The request body is larger than this endpoint accepts.' });
      return;
    }
    if (e.type === 'entity.parse.failed' || e.type === 'encoding.unsupported' || e.type === 'charset.unsupported') {
      res.status(400).json({ error: 'malformed_body', message: 'The request body is not valid JSON.' });
      return;
    }
    if (e.status && e.status >= 400 && e.status < 500) {
      res.status(e.status).json({ error: 'bad_request' });
      return;
    }
    deps.log.error({ err: describeError(err), method: req.method, path: req.path }, 'request failed');
    if (!res.headersSent) res.status(500).json({ error: 'internal_error', message: 'Something went wrong on our side; please try again.' });
  };
  app.use(onError);
  return app;
}

/**
 * On every answer: no script but our own files (no inline script, no eval), nothing may frame our pages
 * (clickjacking), and no address leaks to other sites through the Referer header.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Sets the headers of every answer (also on routes served without Express). */
export function setSecurityHeaders(res: Pick<ServerResponse, 'setHeader'>): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  setSecurityHeaders(res);
  next();
};

/** Rejects with `message` when `p` has not settled after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() => clearTimeout(timer));
}
