import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kafkaSecurityFrom } from './kafka-security.ts';
import { redactText } from './redact.ts';
import { loadSettings } from './settings.ts';

const dir = mkdtempSync(join(tmpdir(), 'driftline-kafka-security-'));
const ca = join(dir, 'ca.pem');
writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
const jks = join(dir, 'truststore.jks');
writeFileSync(jks, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
const missing = join(dir, 'missing.pem');
const sasl = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'app', KAFKA_SASL_PASSWORD: 'pw-123456' };

describe('kafkaSecurityFrom', () => {
  it('is plaintext without settings, and reads SASL_SSL with a CA file', () => {
    expect(kafkaSecurityFrom({})).toEqual({ protocol: 'PLAINTEXT', sasl: undefined, tls: undefined });
    const security = kafkaSecurityFrom({ KAFKA_SECURITY_PROTOCOL: 'sasl_ssl', KAFKA_SSL_CA_FILE: ca, ...sasl });
    expect(security.protocol).toBe('SASL_SSL');
    expect(security.sasl).toEqual({ mechanism: 'SCRAM-SHA-512', username: 'app', password: 'pw-123456' });
    expect(security.tls?.ca).toContain('BEGIN CERTIFICATE');
    expect(kafkaSecurityFrom({ KAFKA_SECURITY_PROTOCOL: 'SSL' }).tls).toEqual({});
  });

  it('names the variable to fix', () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ KAFKA_SECURITY_PROTOCOL: 'TLS' }, /KAFKA_SECURITY_PROTOCOL must be one of PLAINTEXT, SSL, SASL_PLAINTEXT/],
      [sasl, /KAFKA_SASL_MECHANISM is set but KAFKA_SECURITY_PROTOCOL is PLAINTEXT: set .*=SASL_SSL/],
      [{ KAFKA_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KAFKA_SSL_CA_FILE: ca, ...sasl }, /KAFKA_SSL_CA_FILE is set but/],
      [{ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', ...sasl, KAFKA_SASL_MECHANISM: 'GSSAPI' }, /SASL_MECHANISM must be/],
      [{ KAFKA_SECURITY_PROTOCOL: 'SASL_SSL', ...sasl, KAFKA_SASL_PASSWORD: '' }, /KAFKA_SASL_PASSWORD is not set/],
      [
        { KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: missing },
        /KAFKA_SSL_CA_FILE: cannot read .* \(no such file\)/,
      ],
      [{ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CA_FILE: jks }, /KAFKA_SSL_CA_FILE: .*\.jks is not a PEM file/],
      [{ KAFKA_SECURITY_PROTOCOL: 'SSL', KAFKA_SSL_CERT_FILE: ca }, /KAFKA_SSL_KEY_FILE is not set/],
    ];
    for (const [env, message] of cases) expect(() => kafkaSecurityFrom(env), JSON.stringify(env)).toThrow(message);
  });

  it('is checked only when Kafka is used', () => {
    expect(loadSettings({ KAFKA_SECURITY_PROTOCOL: 'nonsense' }).kafkaSecurity).toBeUndefined();
    const env = { KAFKA_BROKERS: 'b:9093', KAFKA_SECURITY_PROTOCOL: 'nonsense' };
    expect(() => loadSettings(env)).toThrow(/KAFKA_SECURITY_PROTOCOL/);
  });
});

describe('secrets among the Kafka and ClickHouse variables', () => {
  it('scrubs the SASL and key passwords from text, and keeps the key file path', () => {
    const env = {
      KAFKA_SASL_PASSWORD: 'kafka-pw-1',
      KAFKA_SSL_KEY_PASSWORD: 'key-pw-22',
      KAFKA_SSL_KEY_FILE: '/k.key',
    };
    expect(redactText('login with kafka-pw-1 and key-pw-22 failed for /k.key', env)).toBe(
      'login with *** and *** failed for /k.key',
    );
  });

  it('puts CLICKHOUSE_USER / CLICKHOUSE_PASSWORD in the URL, where the display form hides the password', () => {
    const env = { CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_USER: 'analyst', CLICKHOUSE_PASSWORD: 'p@ss/w0rd' };
    const url = loadSettings(env).clickhouseUrl!;
    expect(url).toBe('http://analyst:p%40ss%2Fw0rd@ch:8123');
    expect(redactText(`cannot reach ${url}; password p@ss/w0rd, encoded p%40ss%2Fw0rd`, env)).toBe(
      'cannot reach http://analyst:***@ch:8123; password ***, encoded ***',
    );
    const passwordOnly = { CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_PASSWORD: 'x' };
    expect(loadSettings(passwordOnly).clickhouseUrl).toBe('http://default:x@ch:8123');
    const both = { ...env, CLICKHOUSE_URL: 'http://bob:pw@ch:8123' };
    expect(() => loadSettings(both)).toThrow(/CLICKHOUSE_URL has a user name already/);
  });
});
