import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler, type Router } from 'express';
import type { Metrics } from './Metrics';

export const METRICS_PATH = '/metrics';

function sameSecret(given: string, expected: string): boolean {
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

/** Answers the scrape; with a token, only to `Authorization: Bearer <METRICS_TOKEN>`. */
function serveMetrics(metrics: Metrics, token: string | undefined): RequestHandler {
  return async (req, res, next) => {
    if (token !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
      if (!m || !sameSecret(m[1]!, token)) {
        res.status(401).json({ error: 'unauthorized', message: 'Send the header "Authorization: Bearer <METRICS_TOKEN>" (the bearer_token of the Prometheus scrape job).' });
        return;
      }
    }
    try {
      const { contentType, body } = await metrics.render();
      res.set('content-type', contentType).send(body);
    } catch (err) {
      next(err);
    }
  };
}

/** `GET /metrics` on the main port, behind METRICS_TOKEN. */
export function createMetricsRouter(metrics: Metrics, token: string): Router {
  const router = express.Router();
  router.get(METRICS_PATH, serveMetrics(metrics, token));
  return router;
}

/**
 * `GET /metrics` on a port of its own (METRICS_PORT, on METRICS_HOST: 127.0.0.1 unless set), for a Prometheus on
 * the same machine or network; METRICS_TOKEN is required there too when it is set. Resolves with the port.
 */
export async function startMetricsServer(metrics: Metrics, options: { host: string; port: number; token: string | undefined }): Promise<{ port: number; close(): Promise<void> }> {
  const app = express();
  app.disable('x-powered-by');
  app.get(METRICS_PATH, serveMetrics(metrics, options.token));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: `Only ${METRICS_PATH} is served on this port.` });
  });
  const server = http.createServer(app);
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve((server.address() as AddressInfo).port));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
