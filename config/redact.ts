/**
 * Secrets never leave the process: everything that prints or stores a URL or a setting goes through here first.
 *
 * - `redactUrl`: the display form of a configured URL (CLICKHOUSE_URL, SCHEMA_REGISTRY_URL): the userinfo password
 *   and secret-looking query parameters (`password=`, `token=`, `X-Amz-Signature=`, …) become `***`. The rest of the
 *   text is kept as written, so a redacted URL still says which server and user it was.
 * - `redactText`: free text (error messages, log lines): the same for every URL and `name=value` pair in it, plus the
 *   literal values of environment variables whose names look secret and the passwords of URL-valued variables, as
 *   they may show up on their own (a library quoting its config, a decoded password in an auth error).
 */

export const REDACTED = '***';

/** Name fragments that mark a secret anywhere in a name (`PGPASSWORD`, `client_secret`, `AWS_SECRET_ACCESS_KEY`). */
const SECRET_FRAGMENTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'apikey',
  'accesskey',
  'privatekey',
  'credential',
  'signature',
];
/**
 * Whole words that mark a secret (`GITHUB_TOKEN`, `access_token`); as fragments they would catch `TOKENIZERS_…`,
 * `bypass`.
 */
const SECRET_WORDS = new Set(['token', 'pass', 'pwd', 'sig', 'auth', 'key']);
/**
 * Environment variables that hold no secret though a word matches (`PWD` is the working directory; the key file's
 * path is not the key, and an error about that file must be able to name it). Secret by name and scrubbed:
 * KAFKA_SASL_PASSWORD, KAFKA_SSL_KEY_PASSWORD, CLICKHOUSE_PASSWORD.
 */
const NOT_SECRET_VARIABLES = new Set(['PWD', 'OLDPWD', 'SSH_AUTH_SOCK', 'GPG_AGENT_INFO', 'KAFKA_SSL_KEY_FILE']);
/**
 * Literal values shorter than this are not scrubbed from free text: they would scrub ordinary words and numbers
 * from every line. URL passwords and `name=value` secrets are redacted by position, whatever their length.
 */
const MIN_LITERAL_LENGTH = 6;

/** Whether a variable, setting or query parameter named `name` holds a secret. */
export function looksSecret(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  const joined = words.join('');
  return SECRET_FRAGMENTS.some((f) => joined.includes(f)) || words.some((w) => SECRET_WORDS.has(w));
}

/** The display form of a URL: userinfo password and secret query parameters replaced by `***`. */
export function redactUrl(url: string): string {
  return redactPairs(redactUserinfo(url));
}

/** Free text with every secret it may carry replaced by `***` (see the file comment). */
export function redactText(text: string, env: NodeJS.ProcessEnv = process.env): string {
  let out = redactPairs(text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi, redactUserinfo));
  for (const secret of secretValues(env)) out = out.split(secret).join(REDACTED);
  return out;
}

/** `scheme://user:password@host…` → `scheme://user:***@host…` (the last `@` of the authority ends the userinfo). */
function redactUserinfo(url: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return url;
  const authority = match[2]!;
  const at = authority.lastIndexOf('@');
  const colon = authority.indexOf(':');
  if (at < 0 || colon < 0 || colon > at) return url;
  return `${match[1]}${authority.slice(0, colon + 1)}${REDACTED}${url.slice(match[1]!.length + at)}`;
}

/** `password=…`, `token=…` and other secret-named `name=value` pairs (query strings, connection strings). */
function redactPairs(text: string): string {
  return text.replace(/([A-Za-z0-9_.%-]+)=([^\s&;,"'<>`#)]+)/g, (pair, name: string) =>
    looksSecret(safeDecode(name)) ? `${name}=${REDACTED}` : pair,
  );
}

/** Values to scrub wherever they appear: secret-named variables, and the passwords of URL-valued ones. */
function secretValues(env: NodeJS.ProcessEnv): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    // Percent-encoded too: a password set as a variable travels in a URL's userinfo (CLICKHOUSE_PASSWORD).
    if (looksSecret(name) && !NOT_SECRET_VARIABLES.has(name)) values.add(value).add(encodeURIComponent(value));
    const password = urlPassword(value);
    if (password) values.add(password).add(safeDecode(password));
  }
  // Longest first, so a secret containing a shorter one is scrubbed whole.
  return [...values].filter((v) => v.length >= MIN_LITERAL_LENGTH).sort((a, b) => b.length - a.length);
}

function urlPassword(value: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(value.trim());
  const userinfo = match?.[1];
  const colon = userinfo?.indexOf(':') ?? -1;
  return userinfo && colon >= 0 ? userinfo.slice(colon + 1) : undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
