import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  /** Where Prometheus scrapes, e.g. http://127.0.0.1:9464/metrics. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Serves `GET /metrics` (Prometheus text format) from `registry` on host:port; port 0 picks a free one. */
export async function serveMetrics(registry: Registry, host: string, port: number): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('driftline serves metrics at /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, host, port)));
    server.listen(port, host, resolve);
  });
  server.unref(); // a scrape in progress must not keep a finished run alive
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${bound}/metrics`,
    port: bound,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections()),
  };
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  const fix = 'pick another with --metrics-port or DRIFTLINE_METRICS_PORT (0 picks a free port)';
  if (error.code === 'EADDRINUSE') return new Error(`metrics port ${port} on ${host} is in use: ${fix}`);
  if (error.code === 'EACCES') return new Error(`metrics port ${port} needs privileges: ${fix}`);
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    const where = 'set --metrics-host or DRIFTLINE_METRICS_HOST';
    return new Error(`cannot serve metrics on ${host}: not an address of this machine (${where})`);
  }
  return new Error(`cannot serve metrics on ${host}:${port}: ${error.message}`);
}
