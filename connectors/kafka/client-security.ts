import type { KafkaConfig } from 'kafkajs';
import type { KafkaSecurity } from '../../config/kafka-security.ts';

/** The `ssl` and `sasl` parts of a kafkajs client config: plain data, so it crosses to the producer thread as is. */
export type KafkaJsSecurity = Pick<KafkaConfig, 'ssl' | 'sasl'>;

/** kafkajs settings for the configured protocol (config/kafka-security.ts reads and checks the variables). */
export function kafkaJsSecurity(security: KafkaSecurity | undefined): KafkaJsSecurity {
  if (!security) return {};
  const out: KafkaJsSecurity = {};
  if (security.tls) {
    const { ca, cert, key, keyPassword } = security.tls;
    // Without a CA file the system's CAs are trusted (`ssl: true`); a hostname check applies either way.
    out.ssl = ca || cert ? { ca: ca ? [ca] : undefined, cert, key, passphrase: keyPassword } : true;
  }
  if (security.sasl) {
    const { mechanism, username, password } = security.sasl;
    const sasl = { username, password };
    if (mechanism === 'PLAIN') out.sasl = { mechanism: 'plain', ...sasl };
    else if (mechanism === 'SCRAM-SHA-256') out.sasl = { mechanism: 'scram-sha-256', ...sasl };
    else out.sasl = { mechanism: 'scram-sha-512', ...sasl };
  }
  return out;
}

/** Whether kafkajs failed because the broker refused the SASL login (anywhere in the cause chain, or its text). */
function isAuthenticationError(error: unknown): boolean {
  let e = error as { name?: string; message?: string; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    // The producer thread sends errors across as text: `KafkaJSSASLAuthenticationError: …`.
    if (e.name === 'KafkaJSSASLAuthenticationError' || /KafkaJSSASLAuthenticationError/.test(e.message ?? ''))
      return true;
  }
  return false;
}

/** A TLS failure a user fixes with the CA file: the broker's certificate is not trusted or not for this host. */
function isCertificateError(error: unknown): boolean {
  const text = String((error as { message?: string })?.message ?? error);
  return /self[- ]signed|certificate|unable to verify|ERR_TLS_CERT|altnames/i.test(text);
}

/**
 * The error to show for a failed Kafka connection: a refused login or an untrusted certificate names the variables
 * to fix (the password itself never: the message only quotes the broker's answer). Others are returned unchanged.
 */
export function explainKafkaError(error: unknown, security: KafkaSecurity | undefined): unknown {
  const detail = (error as { message?: string })?.message ?? String(error);
  if (security?.sasl && isAuthenticationError(error)) {
    const { mechanism, username } = security.sasl;
    return named(
      'KafkaSASLAuthenticationError',
      new Error(
        `Kafka refused the ${mechanism} login of user "${username}": check KAFKA_SASL_PASSWORD and ` +
          `KAFKA_SASL_USERNAME ` +
          `(and that the broker's listener enables ${mechanism}, else set KAFKA_SASL_MECHANISM). Broker ` +
          `said: ${detail}`,
        { cause: error },
      ),
    );
  }
  if (security?.tls && isCertificateError(error)) {
    return named(
      'KafkaSSLCertificateError',
      new Error(
        `Kafka's TLS certificate was not accepted: set KAFKA_SSL_CA_FILE to the PEM file of the CA that signed the ` +
          `broker's certificate (and the host name the certificate was made for in KAFKA_BROKERS). TLS said: ${detail}`,
        { cause: error },
      ),
    );
  }
  return error;
}

/** Named so that retry logic (broker-errors.js) sees a credentials or TLS problem, not an unreachable broker. */
function named(name: string, error: Error): Error {
  error.name = name;
  return error;
}
