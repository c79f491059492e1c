/**
 * A small static file server for the built site (`driftline report preview`, and the browser test). Serves regular
 * files under one folder only, on 127.0.0.1 by default; `/drift` falls back to `drift.html`, `/` to `index.html`.
 * A path is checked after resolving symlinks (a link inside the site pointing out of it is refused, as is `..`),
 * and every response says not to sniff types, not to send referrers, and what the page may load (its CSP).
 */
import { createReadStream, readFileSync, realpathSync, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { contentSecurityPolicy } from './content-security-policy.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/**
 * The real path of the file a request path maps to, or null when it is missing, not a regular file or outside `root`.
 */
export function resolveRequest(root: string, pathname: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (path.includes('\0')) return null;
  const base = realpathSync(root);
  const candidate = resolve(base, `.${path}`);
  if (!inside(base, candidate)) return null;
  const options = path.endsWith('/')
    ? [join(candidate, 'index.html')]
    : [candidate, `${candidate}.html`, join(candidate, 'index.html')];
  for (const option of options) {
    const file = realFileInside(base, option);
    if (file) return file;
  }
  return null;
}

const inside = (base: string, path: string) => path === base || path.startsWith(base + sep);

/** `path` with its symlinks resolved, when that is a regular file inside `base`. */
function realFileInside(base: string, path: string): string | null {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return null; // missing, or a dangling link
  }
  return inside(base, real) && statSync(real).isFile() ? real : null;
}

/** Headers every response carries; an HTML page's CSP allows its own inline scripts. */
function securityHeaders(html?: string): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': contentSecurityPolicy(html),
  };
}

function sendFile(res: ServerResponse, file: string, head: boolean): void {
  const type = TYPES[extname(file)] ?? 'application/octet-stream';
  if (extname(file) === '.html') {
    const html = readFileSync(file, 'utf8');
    res
      .writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', ...securityHeaders(html) })
      .end(head ? undefined : html);
    return;
  }
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache', ...securityHeaders() });
  if (head) res.end();
  else
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
}

export function serveStatic(root: string, options: { port?: number; host?: string } = {}): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const text = (status: number, message: string) =>
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...securityHeaders() }).end(`${message}\n`);
    try {
      const file = resolveRequest(root, new URL(req.url ?? '/', 'http://localhost').pathname);
      if (!file) text(404, 'not found');
      else if (req.method !== 'GET' && req.method !== 'HEAD') text(405, 'method not allowed');
      else sendFile(res, file, req.method === 'HEAD');
    } catch {
      // The site folder changed under the server (a rebuild): the next request sees the new one.
      if (!res.headersSent) text(500, 'could not read the file');
      else res.destroy();
    }
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
