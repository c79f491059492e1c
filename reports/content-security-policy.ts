/**
 * The Content-Security-Policy the preview server sends with the built site. Everything the site loads is its own:
 * modules, styles and page data from the same origin (Framework bundles the libraries into `_node/`), an inline
 * `data:` favicon. Framework writes each page's code as inline scripts, so a page's policy allows exactly those, by
 * hash: an injected script (scraped text that escaped its escaping) would not run, nor would an injected `onerror=`.
 * Styles may be inline: Plot, Inputs and Vega set style attributes and `<style>` elements at run time. Vega compiles
 * no code (charts.js renders with `ast: true`, Vega's interpreter), so there is no 'unsafe-eval'.
 */
import { createHash } from 'node:crypto';

/**
 * htl (behind Inputs and the pages' `html`) writes `onclick=${fn}` as a placeholder attribute `onclick="::N"` (N: the
 * value's index in its template), then swaps in the function as a property. Browsers check the placeholder when it is
 * set, so it is allowed by hash: it is not JavaScript, and no other handler attribute is. Inputs' templates go up to
 * N = 11 (textarea); 16 leaves room.
 */
const HTL_PLACEHOLDERS = Array.from({ length: 16 }, (_, i) => `::${i + 1}`);

/** The policy for one response: `html` is the page served, whose inline scripts are allowed by hash. */
export function contentSecurityPolicy(html?: string): string {
  const scripts = html ? inlineScriptHashes(html) : [];
  return [
    "default-src 'self'",
    `script-src ${["'self'", ...scripts.map(quoted)].join(' ')}`,
    `script-src-attr 'unsafe-hashes' ${HTL_PLACEHOLDERS.map(sha256).map(quoted).join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** `sha256-…` of every inline `<script>` in the page, as browsers hash them (the exact text between the tags). */
export function inlineScriptHashes(html: string): string[] {
  const hashes = new Set<string>();
  for (const [, attributes, body] of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi)) {
    if (!/\bsrc\s*=/i.test(attributes!)) hashes.add(sha256(body!));
  }
  return [...hashes];
}

const sha256 = (text: string) => `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
const quoted = (source: string) => `'${source}'`;
