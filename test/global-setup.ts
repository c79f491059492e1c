// Vitest globalSetup: make sure the real services the integration tests talk to are running.
//
// This runs `bash scripts/services.sh up` for each service whose variable is not already set (services
// provided elsewhere, e.g. docker compose or a shared broker): it installs the Debian packages that are
// missing (as root), then starts a single-node Kafka (127.0.0.1:9092), ClickHouse (http://127.0.0.1:8123)
// and Apicurio Registry (http://127.0.0.1:8081/apis/ccompat/v7) or reuses the ones already answering, so
// a re-run costs well under a second.
//
// The services are deliberately NOT stopped afterwards: tests are re-run often and CI machines are
// thrown away. Stop them with `npm run services:down`.
//
// How tests get the addresses:
//   - process.env.KAFKA_BROKERS / process.env.CLICKHOUSE_URL: set here in the main process before
//     any test worker is forked; vitest 4 builds each fork's env from process.env at that point.
//   - inject('KAFKA_BROKERS') / inject('CLICKHOUSE_URL') from 'vitest': the same values, typed.
//   - inject('SCHEMA_REGISTRY_URL') only: not put in process.env, because with it set every `driftline` the
//     tests start would frame its Avro values for the registry; the Schema Registry tests pass it explicitly.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { startLabelStudioInBackground } from './e2e/label-studio-setup.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    KAFKA_BROKERS: string;
    CLICKHOUSE_URL: string;
    SCHEMA_REGISTRY_URL: string;
  }
}

const root = fileURLToPath(new URL('..', import.meta.url));

export default function setup(project: TestProject): void {
  const services = [
    process.env.KAFKA_BROKERS ? '' : 'kafka',
    process.env.CLICKHOUSE_URL ? '' : 'clickhouse',
    process.env.SCHEMA_REGISTRY_URL ? '' : 'schema-registry',
  ].filter(Boolean);
  if (services.length > 0) {
    try {
      const env = { ...process.env, SERVICES: services.join(' ') };
      execFileSync('bash', ['scripts/services.sh', 'up'], { cwd: root, stdio: 'inherit', env });
    } catch (err) {
      throw new Error(
        `test/global-setup: \`SERVICES="${services.join(' ')}" bash scripts/services.sh up\` failed (output above; ` +
          'logs in .services/logs/). Set KAFKA_BROKERS, CLICKHOUSE_URL and SCHEMA_REGISTRY_URL to use services ' +
          'started some other way.',
        { cause: err },
      );
    }
  }
  process.env.KAFKA_BROKERS ??= '127.0.0.1:9092';
  process.env.CLICKHOUSE_URL ??= 'http://127.0.0.1:8123';
  project.provide('KAFKA_BROKERS', process.env.KAFKA_BROKERS);
  project.provide('CLICKHOUSE_URL', process.env.CLICKHOUSE_URL);
  project.provide('SCHEMA_REGISTRY_URL', process.env.SCHEMA_REGISTRY_URL || 'http://127.0.0.1:8081/apis/ccompat/v7');
  // Label Studio's install and first start take minutes: begun now, in the background, for its test to use later.
  startLabelStudioInBackground(project, root);
}
