/**
 * `driftline report preview` as users run it: real HTTP requests to the real command. It serves regular files inside
 * the site folder only (a symlink out of it is refused, however it is reached) and sends nosniff, no-referrer and a
 * CSP that allows the page's own inline scripts by hash.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driftline, exitOf } from '../e2e/cli.ts';

const base = mkdtempSync(join(tmpdir(), 'driftline-preview-'));
const site = join(base, 'site');
const outside = join(base, 'outside');
const SECRET = 'not-for-the-browser';
// The CSP spec's own example: this script's sha256 is qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng=.
const PAGE =
  `<!DOCTYPE html><html><head><script>alert('Hello, world.');</script><script ` +
  `src="./a.js"></script></head><body>site</body></html>`;
let preview: ReturnType<typeof driftline>;
let port = 0;

beforeAll(async () => {
  mkdirSync(join(site, 'data'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), SECRET);
  writeFileSync(join(site, 'index.html'), PAGE);
  writeFileSync(join(site, 'a.js'), 'export {};');
  writeFileSync(join(site, 'data', 'page.json'), '{"ok":true}');
  symlinkSync(join(outside, 'secret.txt'), join(site, 'leak.txt')); // a file link out
  symlinkSync(outside, join(site, 'out'), 'dir'); // a folder link out
  symlinkSync('/etc/passwd', join(site, 'passwd'));
  symlinkSync(join(site, 'data', 'page.json'), join(site, 'alias.json')); // a link that stays inside
  preview = driftline(['report', 'preview', '--dir', site, '--port', '0'], {});
  for (let i = 0; i < 100 && !port; i++) {
    port = Number(/at http:\/\/127\.0\.0\.1:(\d+)\//.exec(preview.output())?.[1] ?? 0);
    if (!port) await new Promise((r) => setTimeout(r, 100));
  }
  if (!port) throw new Error(`report preview did not start:\n${preview.output()}`);
});

afterAll(async () => {
  if (preview?.exitCode === null) {
    preview.kill('SIGINT');
    await exitOf(preview);
  }
});

/** A GET with the path sent exactly as written (fetch would normalise `..` away before sending). */
function get(
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('report preview', () => {
  it('refuses symlinks out of the site and paths above it', async () => {
    for (const path of [
      '/leak.txt',
      '/out/secret.txt',
      '/passwd',
      '/../outside/secret.txt',
      '/%2e%2e/outside/secret.txt',
      '/..%2foutside%2fsecret.txt',
      '/data/..%2f..%2foutside/secret.txt',
    ]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain(SECRET);
      expect(res.body, path).not.toContain('root:');
    }
  });

  it('serves files inside the site, through a link that stays inside too', async () => {
    expect((await get('/data/page.json')).body).toBe('{"ok":true}');
    expect((await get('/alias.json')).body).toBe('{"ok":true}');
    const index = await get('/');
    expect(index.status).toBe(200);
    expect(index.body).toBe(PAGE);
  });

  it('sends nosniff, no-referrer and a CSP allowing only the page and its inline scripts', async () => {
    const index = await get('/');
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect(index.headers['referrer-policy']).toBe('no-referrer');
    const csp = String(index.headers['content-security-policy']);
    const directives = Object.fromEntries(
      csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]),
    );
    expect(directives['default-src']).toBe("'self'");
    // The inline script by its hash; the external one is allowed as 'self', not hashed; no other origin, no eval.
    expect(directives['script-src']).toBe("'self' 'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='");
    expect(directives['script-src-attr']).not.toContain('unsafe-inline');
    expect(directives['object-src']).toBe("'none'");
    expect(csp).not.toMatch(/unsafe-eval|https?:|\*/);
    for (const path of ['/a.js', '/missing']) {
      const res = await get(path);
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
      expect(res.headers['content-security-policy'], path).toContain("default-src 'self'");
    }
    expect((await get('/a.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
  });
});
