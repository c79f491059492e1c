/**
 * A test double of the Confluent Schema Registry's REST API: just the endpoints our client calls (subject config,
 * register, schema by id), on a local port. No registry server can be installed on these machines; the real
 * framing and client library are exercised against it.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSchemaRegistry {
  server: Server;
  calls: { method: string; url: string; body?: unknown }[];
  /** Schemas by id; tests may preload older versions. */
  byId: Map<number, string>;
  url(): string;
  start(): Promise<string>;
  stop(): Promise<void>;
}

export function fakeSchemaRegistry(options: { fixedId?: number; preload?: [number, string][] } = {}): FakeSchemaRegistry {
  const byId = new Map<number, string>(options.preload ?? []);
  const calls: FakeSchemaRegistry['calls'] = [];
  let nextId = 100;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = raw ? (JSON.parse(raw) as { schema: string }) : undefined;
      calls.push({ method: req.method ?? '', url: req.url ?? '', body });
      const send = (status: number, payload: object) => {
        res.writeHead(status, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' });
        res.end(JSON.stringify(payload));
      };
      // Compatibility config: unknown subjects 404 (first registration), then the client sets it.
      if (/^\/config\/[^/]+$/.test(req.url ?? '')) {
        return req.method === 'PUT' ? send(200, body ?? {}) : send(404, { error_code: 40401, message: 'Subject not found' });
      }
      if (req.method === 'POST' && /^\/subjects\/[^/]+\/versions$/.test(req.url ?? '') && body) {
        JSON.parse(body.schema); // must be a JSON-encoded schema string
        const existing = [...byId].find(([, s]) => s === body.schema)?.[0];
        const id = existing ?? options.fixedId ?? nextId++;
        byId.set(id, body.schema);
        return send(200, { id });
      }
      const get = /^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && get) {
        const schema = byId.get(Number(get[1]));
        return schema ? send(200, { schema }) : send(404, { error_code: 40403, message: 'Schema not found' });
      }
      send(404, { error_code: 404, message: 'Not found' });
    });
  });
  return {
    server,
    calls,
    byId,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    start: () => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
