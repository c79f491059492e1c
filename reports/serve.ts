/**
 * A small static file server for the built site (`driftline report preview`, and the browser test). Serves files
 * under one folder only, on 127.0.0.1 by default; `/drift` falls back to `drift.html`, `/` to `index.html`.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/** The file a request path maps to, or null when it is outside `root` or missing. */
export function resolveRequest(root: string, pathname: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  const base = resolve(root);
  const candidate = resolve(base, `.${path}`);
  if (candidate !== base && !candidate.startsWith(base + sep)) return null;
  const options = path.endsWith('/') ? [join(candidate, 'index.html')] : [candidate, `${candidate}.html`, join(candidate, 'index.html')];
  return options.find((f) => existsSync(f) && statSync(f).isFile()) ?? null;
}

export function serveStatic(root: string, options: { port?: number; host?: string } = {}): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const file = resolveRequest(root, new URL(req.url ?? '/', 'http://localhost').pathname);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(file ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' }).end(file ? 'method not allowed\n' : 'not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolveServer, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolveServer({ url: `http://${host}:${port}/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}
