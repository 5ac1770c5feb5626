import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { Request, Response } from 'express';

/** A file served from memory, compressed once at start-up (brotli and gzip), with its content hash as ETag. */
export interface WebAsset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  br: Buffer;
  /** The first 10 hex digits of the SHA-256 of the body: in versioned URLs and (quoted) as the ETag. */
  hash: string;
}

/** Compresses `body` once (the page is read by every visitor on a slow line: a few milliseconds at start-up). */
export function createAsset(type: string, body: string | Buffer): WebAsset {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  return {
    type,
    body: buf,
    gzip: zlib.gzipSync(buf, { level: 9 }),
    br: zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length } }),
    hash: crypto.createHash('sha256').update(buf).digest('hex').slice(0, 10),
  };
}

/** `chat.js` → `chat.<hash>.js`: a new deployment changes the address, so no browser keeps an old script. */
export function versionedName(file: string, asset: WebAsset): string {
  const dot = file.lastIndexOf('.');
  return `${file.slice(0, dot)}.${asset.hash}${file.slice(dot)}`;
}

/**
 * Sends an asset, compressed as the client accepts (brotli, else gzip), answering 304 to a matching If-None-Match.
 * `immutable`: a versioned address, cached for a year; otherwise the browser revalidates every time (`no-cache`:
 * a cheap 304 on a slow line, and never an old page after a deployment).
 */
export function sendAsset(req: Request, res: Response, asset: WebAsset, immutable: boolean): void {
  const etag = `"${asset.hash}"`;
  res.setHeader('Content-Type', asset.type);
  res.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  res.setHeader('ETag', etag);
  res.setHeader('Vary', 'Accept-Encoding');
  const match = req.headers['if-none-match'];
  if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
    res.status(304).end();
    return;
  }
  const accepts = String(req.headers['accept-encoding'] ?? '');
  const [encoding, body] = /\bbr\b/.test(accepts) ? ['br', asset.br] : /\bgzip\b/.test(accepts) ? ['gzip', asset.gzip] : [null, asset.body];
  if (encoding) res.setHeader('Content-Encoding', encoding);
  res.setHeader('Content-Length', String(body.length));
  res.status(200).end(req.method === 'HEAD' ? undefined : body);
}
