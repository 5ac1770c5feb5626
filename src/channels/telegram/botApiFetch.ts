import http from 'node:http';
import https from 'node:https';

/** The parts of grammY's request options this transport reads (grammY's `ApiClient.call`). */
interface GrammyRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: unknown;
  agent?: http.Agent;
  signal?: { aborted: boolean; addEventListener(type: 'abort', listener: () => void): void; removeEventListener(type: 'abort', listener: () => void): void };
}

/** The part of a fetch Response grammY reads. */
interface MinimalResponse {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
  text(): Promise<string>;
}

class AbortedError extends Error {
  constructor() {
    super('The Bot API request was aborted');
    this.name = 'AbortError';
  }
}

/**
 * The transport grammY's API client uses (its `fetch` option). grammY's default on Node is node-fetch; for the
 * JSON calls that make up nearly all of this bot's traffic, one `node:http(s)` request on grammY's own keep-alive
 * agent does the same work with less CPU and garbage (`npm run bench:telegram`). Multipart uploads (files) go
 * through Node's own fetch.
 */
export function createBotApiFetch(): typeof fetch {
  const botApiFetch = (url: string | URL, init: GrammyRequestInit = {}): Promise<MinimalResponse> => {
    if (init.body !== undefined && typeof init.body !== 'string') return viaNodeFetch(url, init);
    return new Promise<MinimalResponse>((resolve, reject) => {
      const signal = init.signal;
      if (signal?.aborted) {
        reject(new AbortedError());
        return;
      }
      const target = new URL(url);
      const body = init.body as string | undefined;
      const headers: Record<string, string | number> = { ...init.headers };
      if (body !== undefined) headers['content-length'] = Buffer.byteLength(body);
      const request = (target.protocol === 'https:' ? https : http).request(target, { method: init.method ?? 'GET', headers, agent: init.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          done();
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          resolve({ ok: status >= 200 && status < 300, status, text: async () => text, json: async () => JSON.parse(text) as unknown });
        });
      });
      const onAbort = () => request.destroy(new AbortedError());
      function done() {
        signal?.removeEventListener('abort', onAbort);
      }
      function fail(err: Error) {
        done();
        reject(err);
      }
      signal?.addEventListener('abort', onAbort);
      request.on('error', fail);
      request.end(body);
    });
  };
  return botApiFetch as unknown as typeof fetch;
}

/** Streams (multipart uploads) through Node's fetch, which needs a real AbortSignal. */
async function viaNodeFetch(url: string | URL, init: GrammyRequestInit): Promise<MinimalResponse> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  if (init.signal?.aborted) controller.abort();
  init.signal?.addEventListener('abort', onAbort);
  try {
    const res = await fetch(url, { method: init.method, headers: init.headers, body: init.body as string, signal: controller.signal, duplex: 'half' } as RequestInit);
    const text = await res.text();
    return { ok: res.ok, status: res.status, text: async () => text, json: async () => JSON.parse(text) as unknown };
  } finally {
    init.signal?.removeEventListener('abort', onAbort);
  }
}
