import { describe, expect, it } from 'vitest';
import { looksSecret, redactText, redactUrl } from './redact.ts';

describe('redactUrl', () => {
  it('replaces the userinfo password and keeps the rest as written', () => {
    expect(redactUrl('http://user:s3cr3t-XYZ@ch.internal:8123')).toBe('http://user:***@ch.internal:8123');
    expect(redactUrl('https://analyst:p%40ss%3Aw@ch:8443/analytics?database=x')).toBe(
      'https://analyst:***@ch:8443/analytics?database=x',
    );
    // An unencoded @ in the password: the last @ of the authority ends the userinfo, as URL parsers read it.
    expect(redactUrl('http://u:pa@ss@host:8123/')).toBe('http://u:***@host:8123/');
  });

  it('leaves URLs without a password alone', () => {
    for (const url of [
      'http://127.0.0.1:8123',
      'http://default@127.0.0.1:8123',
      'http://host:8123/path?database=analytics&user=bob',
    ])
      expect(redactUrl(url)).toBe(url);
  });

  it('replaces secret-named query parameters', () => {
    expect(redactUrl('http://h:8123/?user=bob&password=hunter2&database=d')).toBe(
      'http://h:8123/?user=bob&password=***&database=d',
    );
    expect(redactUrl('https://s3/x?X-Amz-Credential=AKIA&X-Amz-Signature=abc123&X-Amz-Security-Token=tok')).toBe(
      'https://s3/x?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***',
    );
    expect(redactUrl('http://h/?access_token=t0k3n&apiKey=k&page=2')).toBe(
      'http://h/?access_token=***&apiKey=***&page=2',
    );
  });
});

describe('looksSecret', () => {
  it('recognises secret names, not their look-alikes', () => {
    for (const name of [
      'CLICKHOUSE_PASSWORD',
      'PGPASSWORD',
      'GITHUB_TOKEN',
      'AWS_SECRET_ACCESS_KEY',
      'client_secret',
      'apiKey',
      'api-key',
      'sig',
    ])
      expect(looksSecret(name), name).toBe(true);
    for (const name of [
      'TOKENIZERS_PARALLELISM',
      'KAFKA_BROKERS',
      'CLICKHOUSE_URL',
      'keyword',
      'bypass',
      'database',
      'user',
    ])
      expect(looksSecret(name), name).toBe(false);
  });
});

describe('redactText', () => {
  const env = {
    CLICKHOUSE_URL: 'http://analyst:s3cr3t%2FXYZ@127.0.0.1:8123',
    SERVICE_TOKEN: 'tok-123456789',
    PWD: '/work/main',
    SHORT_TOKEN: 'abc',
  };

  it('redacts URLs, secret pairs and the values of secret variables wherever they appear', () => {
    const text =
      'connect to http://analyst:s3cr3t%2FXYZ@127.0.0.1:8123 failed; retry with password=hunter2 and s3cr3t/XYZ; ' +
      'header Bearer tok-123456789 from /work/main';
    expect(redactText(text, env)).toBe(
      'connect to http://analyst:***@127.0.0.1:8123 failed; retry with password=*** and ***; header Bearer *** ' +
        'from /work/main',
    );
  });

  it('keeps short values and ordinary text', () => {
    expect(redactText('abc: 3 rows, key abc', env)).toBe('abc: 3 rows, key abc');
    expect(redactText('running events on files under /tmp/x', env)).toBe('running events on files under /tmp/x');
  });
});
