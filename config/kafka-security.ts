import { readFileSync } from 'node:fs';

/**
 * How driftline authenticates to Kafka and encrypts the connection, from the variables Kafka users know from
 * `security.protocol`, `sasl.mechanism` and the `ssl.*` client settings (README, "Kafka security"):
 *
 *   KAFKA_SECURITY_PROTOCOL   PLAINTEXT (default) | SSL | SASL_PLAINTEXT | SASL_SSL
 *   KAFKA_SASL_MECHANISM      PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512           (SASL_* protocols)
 *   KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD                               (SASL_* protocols)
 *   KAFKA_SSL_CA_FILE         PEM file of the CA(s) to trust; default: the system's CAs
 *   KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE   PEM client certificate and key (mutual TLS), optional
 *   KAFKA_SSL_KEY_PASSWORD    passphrase of an encrypted KAFKA_SSL_KEY_FILE, optional
 *
 * Files are read here, so a wrong path fails at start with the variable to fix, not at the first connection.
 */

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaSecurity {
  protocol: SecurityProtocol;
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** Present for SSL and SASL_SSL; PEM contents, not paths. */
  tls?: { ca?: string; cert?: string; key?: string; keyPassword?: string };
}

const SASL_VARIABLES = ['KAFKA_SASL_MECHANISM', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'];
const TLS_VARIABLES = ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_KEY_PASSWORD'];

/** The security settings in `env`; throws with the variable to fix when they are incomplete or contradict. */
export function kafkaSecurityFrom(env: NodeJS.ProcessEnv): KafkaSecurity {
  const protocol = (env.KAFKA_SECURITY_PROTOCOL || 'PLAINTEXT').toUpperCase() as SecurityProtocol;
  if (!SECURITY_PROTOCOLS.includes(protocol)) {
    const got = env.KAFKA_SECURITY_PROTOCOL;
    throw new Error(`KAFKA_SECURITY_PROTOCOL must be one of ${SECURITY_PROTOCOLS.join(', ')}, got "${got}"`);
  }
  const usesSasl = protocol.startsWith('SASL_');
  const usesTls = protocol.endsWith('SSL');
  // A setting the protocol ignores is a mistake (credentials meant for a SASL listener sent nowhere): say so.
  for (const name of [...(usesSasl ? [] : SASL_VARIABLES), ...(usesTls ? [] : TLS_VARIABLES)]) {
    if (env[name]) {
      const hint = name.startsWith('KAFKA_SASL') ? 'SASL_SSL or SASL_PLAINTEXT' : 'SSL or SASL_SSL';
      throw new Error(`${name} is set but KAFKA_SECURITY_PROTOCOL is ${protocol}: set KAFKA_SECURITY_PROTOCOL=${hint}`);
    }
  }
  return { protocol, sasl: usesSasl ? saslFrom(env, protocol) : undefined, tls: usesTls ? tlsFrom(env) : undefined };
}

function saslFrom(env: NodeJS.ProcessEnv, protocol: SecurityProtocol): KafkaSecurity['sasl'] {
  const mechanism = (env.KAFKA_SASL_MECHANISM ?? '').toUpperCase() as SaslMechanism;
  if (!SASL_MECHANISMS.includes(mechanism)) {
    const got = env.KAFKA_SASL_MECHANISM ? `got "${env.KAFKA_SASL_MECHANISM}"` : 'it is not set';
    throw new Error(`KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(', ')} for ${protocol} (${got})`);
  }
  for (const name of ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']) {
    if (!env[name]) throw new Error(`${name} is not set: ${protocol} with ${mechanism} needs a user name and password`);
  }
  return { mechanism, username: env.KAFKA_SASL_USERNAME!, password: env.KAFKA_SASL_PASSWORD! };
}

function tlsFrom(env: NodeJS.ProcessEnv): KafkaSecurity['tls'] {
  if (Boolean(env.KAFKA_SSL_CERT_FILE) !== Boolean(env.KAFKA_SSL_KEY_FILE)) {
    const missing = env.KAFKA_SSL_CERT_FILE ? 'KAFKA_SSL_KEY_FILE' : 'KAFKA_SSL_CERT_FILE';
    throw new Error(`${missing} is not set: a client certificate needs KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE`);
  }
  return {
    ca: pemFile(env, 'KAFKA_SSL_CA_FILE', 'CERTIFICATE'),
    cert: pemFile(env, 'KAFKA_SSL_CERT_FILE', 'CERTIFICATE'),
    key: pemFile(env, 'KAFKA_SSL_KEY_FILE', 'PRIVATE KEY'),
    keyPassword: env.KAFKA_SSL_KEY_PASSWORD || undefined,
  };
}

/** The contents of the PEM file a variable names; an error naming the variable when it is unreadable or not PEM. */
function pemFile(env: NodeJS.ProcessEnv, name: string, kind: string): string | undefined {
  const path = env[name];
  if (!path) return undefined;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new Error(`${name}: cannot read ${path} (${reason})`);
  }
  // Java keystores (JKS, PKCS#12) are what Kafka's own clients take; Node needs PEM.
  if (!text.includes('-----BEGIN') || !text.includes(kind)) {
    throw new Error(
      `${name}: ${path} is not a PEM file with a ${kind} (-----BEGIN ...${kind}-----); ` +
        'export one from a Java keystore with keytool -exportcert -rfc or openssl pkcs12 -nodes',
    );
  }
  return text;
}
