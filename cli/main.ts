import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { redactText } from '../config/redact.ts';
import { TABLE_NAMES } from '../connectors/warehouse/tables.ts';
import { MODEL_KIND_NAMES, PIPELINE_NAMES } from './command-names.ts';

// Command modules load in their action (dynamic import): they pull in DuckDB, ONNX Runtime and TF.js, which
// `--help`, `--version` and a mistyped option should not wait for.

/**
 * A command's module, loaded when its action runs. Compiled ahead of time (dist/cli.js, bin/build-cli.js), this
 * file runs without the TypeScript loader: it is registered here, only for a command that runs, so `--help` starts
 * in about the time of plain node. From source (cli/main.ts, through bin/driftline.js's loader) it is there already.
 * The path is the same from both places: dist/ and cli/ sit side by side.
 */
let typeScriptLoader: Promise<void> | undefined;
async function command<M>(file: string): Promise<M> {
  if (!import.meta.url.endsWith('.ts'))
    typeScriptLoader ??= import('tsx/esm/api').then(({ register }) => void register());
  await typeScriptLoader;
  return (await import(new URL(`../cli/${file}`, import.meta.url).href)) as M;
}
const packageVersion = () =>
  (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const positiveNumber = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
};

const portNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port 0-65535 (0: any)');
  return n;
};
const deadLetterRatio = (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError('must be a share from 0 to 1');
  return n;
};
const JSON_HELP = 'also print the result (records, dead letters, latency, lag, per-stage metrics) as JSON on stdout';
/** `--json`: the command's result as one JSON line on stdout (progress and summaries stay on stderr). */
const printJson = (options: { json?: boolean }, result: unknown) => {
  if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
};
const METRICS_PORT_HELP = 'serve Prometheus metrics at http://<host>:<port>/metrics (default DRIFTLINE_METRICS_PORT)';
const DEAD_LETTER_HELP =
  'exit 1 when dead letters exceed this share (0-1) of the records read (default: only when all are)';
const CSV_MAP_HELP =
  'postings: columns of CSV exports that are not Glassdoor\'s, "<column>=<field>,..." or a JSON file {"<column>": ' +
  '"<field>"}; fields: title, company, location, description, salary, label (0/1; optional)';
const METRICS_HOST_HELP = 'interface the metrics server listens on (default DRIFTLINE_METRICS_HOST, else 127.0.0.1)';

// Positional: program options are read before the command only, so `models quantize --version v1` is the model
// version, not driftline's.
const program = new Command('driftline')
  .enablePositionalOptions()
  .version(packageVersion(), '-V, --version', 'print the version')
  .option('--verbose', 'on failure, print the whole error: stack and causes')
  .description('Typed stream-processing dataflows for ML pipelines: Kafka in, models, drift and cost reports out.')
  .showHelpAfterError()
  .addHelpText(
    'after',
    `\nPipelines: ${PIPELINE_NAMES.join(', ')}\n` +
      'Environment: DRIFTLINE_HOME (state, default .driftline), DRIFTLINE_DATA_DIR (datasets),\n' +
      '             KAFKA_BROKERS, CLICKHOUSE_URL, SCHEMA_REGISTRY_URL (use real services instead of embedded ones)',
  );

program
  .command('run')
  .description('run a pipeline on its input topic (or on files with --input) until stopped')
  .argument('<pipeline>', `one of: ${PIPELINE_NAMES.join(', ')}`)
  .option('--input <file|dir>', 'read these files directly instead of the input topic (stops at their end)')
  .option('--csv-map <map|file>', CSV_MAP_HELP)
  .option('--until-idle', 'stop once everything in the input has been processed')
  .option('--config <file>', 'JSON file with per-pipeline options: {"pipelines": {"<name>": {...}}}')
  .option('--group <id>', 'consumer group (default <DRIFTLINE_TOPIC_PREFIX>driftline-<pipeline>)')
  .option(
    '--exactly-once',
    'Kafka only: write output topics in transactions with the input offsets (read them with read_committed)',
  )
  .option('--max-dead-letter-ratio <r>', DEAD_LETTER_HELP, deadLetterRatio)
  .option('--json', JSON_HELP)
  .option('--metrics-port <port>', METRICS_PORT_HELP, portNumber)
  .option('--metrics-host <address>', METRICS_HOST_HELP)
  .action(async (name: string, options) => {
    const { runCommand } = await command<typeof import('./run.ts')>('run.ts');
    printJson(options, await runCommand(name, options));
  });

program
  .command('produce')
  .description("publish input files to a pipeline's input topic")
  .argument('<pipeline>', `one of: ${PIPELINE_NAMES.join(', ')}`)
  .argument('<paths...>', 'files or directories')
  .option('--rate <records/s>', 'pace publishing to this many records per second', positiveNumber)
  .option(
    '--speed <factor>',
    'replay at event-time pace: 1 = original, 60 = sixty times faster (default: as fast as possible)',
    positiveNumber,
  )
  .option(
    '--config <file>',
    'JSON file with per-pipeline options; produce applies those of the source, e.g. frames {"drift": {...}}',
  )
  .option('--csv-map <map|file>', CSV_MAP_HELP)
  .action(async (name: string, paths: string[], options) => {
    const { produceCommand } = await command<typeof import('./produce.ts')>('produce.ts');
    await produceCommand(name, paths, options);
  });

program
  .command('replay')
  .description('replay recorded input through a pipeline in event time')
  .argument('<pipeline>', `one of: ${PIPELINE_NAMES.join(', ')}`)
  .option('--from <ISO time>', 'replay records with event time at or after this (ISO; zone-less = UTC; or epoch ms)')
  .option('--to <ISO time>', 'replay records with event time before this')
  .option('--input <file|dir>', 'replay these files instead of the recorded input topic')
  .option('--csv-map <map|file>', CSV_MAP_HELP)
  .option('--topic <topic>', 'the recorded topic, full name (default <DRIFTLINE_TOPIC_PREFIX><pipeline input topic>)')
  .option('--run-id <id>', 'run id for the warehouse rows (default replay-<time>-<random>)')
  .option('--config <file>', 'JSON file with per-pipeline options, as for run')
  .option('--sort-memory <MB>', 'input sorted in memory before sorted runs spill to disk (default 64)', positiveNumber)
  .option('--max-dead-letter-ratio <r>', DEAD_LETTER_HELP, deadLetterRatio)
  .option('--json', JSON_HELP)
  .option('--metrics-port <port>', METRICS_PORT_HELP, portNumber)
  .option('--metrics-host <address>', METRICS_HOST_HELP)
  .addHelpText(
    'after',
    '\nSide-output topics (windows, dead letters) go to DRIFTLINE_HOME/replays/<run id>/log, never to live topics.',
  )
  .action(async (name: string, options) => {
    const { replayCommand } = await command<typeof import('./replay.ts')>('replay.ts');
    printJson(options, await replayCommand(name, options));
  });

const models = program
  .command('models')
  .description(
    'train, quantize, evaluate and promote models (manifest and artifacts under DRIFTLINE_HOME/models; ' +
      'DRIFTLINE_MODELS_MANIFEST names another manifest)',
  );
models
  .command('list')
  .description('every registered version with its lineage and stage')
  .option('--json', 'print every entry in full (all manifest fields) as one JSON array on stdout')
  .action(async (options) => (await command<typeof import('./models.ts')>('models.ts')).modelsList(options));
models
  .command('train')
  .description(
    `train a model on the data directory and register it as a candidate (kinds: ${MODEL_KIND_NAMES.join(', ')})`,
  )
  .argument('<kind>')
  .option('--data <dir>', 'datasets laid out as in shared/data (default DRIFTLINE_DATA_DIR, else ../shared/data)')
  .option('--id <id>', 'model id (default per kind, e.g. postings-a)')
  .option('--seed <n>', 'training seed', positiveNumber)
  .action(async (kind: string, options) => {
    const { modelsTrain } = await command<typeof import('./models.ts')>('models.ts');
    await modelsTrain(kind, options);
  });
models
  .command('quantize')
  .description('derive an int8 (or fp16) variant of an fp32 version and register it with its parent')
  .argument('<id>')
  .option('--version <v>', 'the fp32 version (default: production, else latest)')
  .option('--precision <int8|fp16>', 'target precision', 'int8')
  .action(async (id: string, options) => {
    const { modelsQuantize } = await command<typeof import('./models.ts')>('models.ts');
    await modelsQuantize(id, options);
  });
models
  .command('eval')
  .description('accuracy of a version on its held-out data')
  .argument('<id>')
  .option('--version <v>')
  .action(async (id: string, options) => {
    const { modelsEval } = await command<typeof import('./models.ts')>('models.ts');
    await modelsEval(id, options);
  });
models
  .command('parity')
  .description('compare a variant with its parent on held-out data; exits 1 outside tolerance')
  .argument('<id>')
  .option('--version <v>', 'the variant (default: production, else latest)')
  .option('--against <version>', "reference version (default: the variant's parent)")
  .option('--abs-tol <x>', 'largest allowed absolute difference of any probability', Number, 0.04)
  .option('--mean-tol <x>', 'largest allowed mean absolute difference', Number, 0.01)
  .action(async (id: string, options) => {
    const { modelsParity } = await command<typeof import('./models.ts')>('models.ts');
    await modelsParity(id, options);
  });
models
  .command('promote')
  .description('make a version the production one (the previous one is archived)')
  .argument('<id>')
  .argument('<version>')
  .action(async (id: string, version: string) =>
    (await command<typeof import('./models.ts')>('models.ts')).modelsPromote(id, version),
  );

const label = program.command('label').description('ground-truth labels: the labelling queue out, labels in');
label
  .command('import')
  .description(
    'publish labels from a JSON Lines or JSON array file, or a Label Studio JSON export, to the labels topic ' +
      '(format: connectors/labels/README.md); invalid entries go to labels.dlq',
  )
  .argument('<file>')
  .option(
    '--classes <names>',
    'comma-separated class names in index order, for labels given by name (default: the postings classes ' +
      'software_engineering,data_science)',
  )
  .option('--source <name>', 'who labelled them, for entries that do not say (default file:<file name>)')
  .action(async (file: string, options) => {
    const { labelImportCommand } = await command<typeof import('./label.ts')>('label.ts');
    await labelImportCommand(file, options);
  });
label
  .command('export')
  .description(
    'write the label queue (label_queue) as Label Studio tasks, most uncertain first, with the labelling config ' +
      '(connectors/labels/README.md)',
  )
  .option('--format <format>', 'label-studio (the one format)', 'label-studio')
  .option('--pipeline <name>', 'postings (text) or frames (images)', 'postings')
  .option('--out <dir>', 'for <pipeline>-tasks.json and <pipeline>-config.xml (default DRIFTLINE_HOME/label-studio)')
  .option('--limit <n>', 'at most n tasks, the most uncertain', Number)
  .option('--all', 'also export queued records that already have a label')
  .option('--config <file>', 'JSON settings file, as for run')
  .action(async (options) => {
    const { labelExportCommand } = await command<typeof import('./label.ts')>('label.ts');
    await labelExportCommand(options);
  });
program
  .command('bench')
  .description(
    'the trade-off benchmark: latency, throughput, memory, energy and accuracy of every registered model variant ' +
      'per backend (bench/tradeoff/README.md)',
  )
  .argument('[suite]', "'events': NAB scores of the events anomaly score beside the baselines (bench/nab-events.ts)")
  .option('--quick', 'a short run (under 2 minutes): fewer repeats, batch sizes and Server rates')
  .option('--out <file>', 'JSON results file (default DRIFTLINE_HOME/bench/<run id>.json)')
  .option('--repeats <n>', 'measured repetitions per scenario (default 10, --quick 3)', positiveNumber)
  .option('--server-bound-ms <ms>', 'Server scenario: p99 latency bound (default 10)', positiveNumber)
  .option(
    '--watts-per-core <W>',
    'power figure of the energy estimate when RAPL is not readable (default: env DRIFTLINE_BENCH_WATTS_PER_CORE, ' +
      'else from the CPU model, else 5)',
    positiveNumber,
  )
  .option('--json', 'print the results as one JSON line on stdout (the summary table goes to stderr)')
  .action(async (suite: string | undefined, options) => {
    const { benchCommand } = await command<typeof import('./bench.ts')>('bench.ts');
    await benchCommand({ ...options, suite });
  });
const report = program.command('report').description('the static report site');
report
  .command('build')
  .description('export page data from the warehouse and build the static site (offline; Observable Framework)')
  .option('--out <dir>', 'where the site goes (default DRIFTLINE_HOME/report; emptied first)')
  .option('--config <file>', 'JSON settings file, as for run')
  .action(async (options) => {
    const { reportBuildCommand } = await command<typeof import('./report.ts')>('report.ts');
    await reportBuildCommand(options);
  });
report
  .command('preview')
  .description('serve the built site on 127.0.0.1 until Ctrl-C')
  .option('--dir <dir>', 'the built site (default DRIFTLINE_HOME/report)')
  .option('--port <port>', 'port (default 3000; 0 picks a free one)', Number)
  .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
  .action(async (options) => {
    const { reportPreviewCommand } = await command<typeof import('./report.ts')>('report.ts');
    await reportPreviewCommand(options);
  });
program
  .command('sql')
  .description('run SQL on the warehouse: every statement of <query> (separated by ;), each result printed in turn')
  .argument('<query>')
  .addOption(
    new Option(
      '--format <format>',
      'output format: table, json (one line per row) or csv; json and csv hold every value in full',
    )
      .choices(['table', 'json', 'csv'])
      .default('table'),
  )
  .option('--wide', 'table: print every value in full (default: cells cut at 60 characters)')
  .addHelpText(
    'after',
    `\nTables (every column: connectors/warehouse/tables.ts): ${TABLE_NAMES.join(', ')}.\n` +
      'On ClickHouse, add FINAL after a table name to see each id once (redelivered rows are merged).',
  )
  .action(async (query: string, options) => {
    const { sqlCommand } = await command<typeof import('./sql.ts')>('sql.ts');
    await sqlCommand(query, options);
  });

program
  .command('demo')
  .description('the whole journey on embedded defaults (what `npm start` runs)')
  .option('--data <dir>', 'datasets laid out as in shared/data (default: DRIFTLINE_DATA_DIR, else generated fixtures)')
  .action(async (options) => {
    const { demoCommand } = await command<typeof import('./demo.ts')>('demo.ts');
    await demoCommand(options);
  });

/** `--verbose` is read from argv by `fail`; accepted after any command too (`driftline run events --verbose`). */
function acceptVerbose(command: Command): void {
  for (const sub of command.commands) {
    if (!sub.options.some((o) => o.long === '--verbose'))
      sub.option('--verbose', 'on failure, print the whole error: stack and causes');
    acceptVerbose(sub);
  }
}
acceptVerbose(program);

// Errors can quote a connection URL or a library's config: printed redacted (config/redact.ts).
// With --verbose, the stack and each cause (a library's own error) follow the one-line message.
const fail = (error: unknown, detail: 'message' | 'stack') => {
  const verbose = process.argv.includes('--verbose');
  const whole = detail === 'stack' || verbose;
  const text = error instanceof Error ? (whole ? (error.stack ?? error.message) : error.message) : String(error);
  let causes = '';
  let cause = (error as Error | undefined)?.cause;
  for (let depth = 0; verbose && cause !== undefined && depth < 8; depth++, cause = (cause as Error).cause) {
    causes += `\n  caused by: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}`;
  }
  const said = text || String((error as Error)?.name ?? 'unknown error');
  process.stderr.write(`driftline: ${redactText(said)}${redactText(causes)}\n`);
  process.exit(1);
};
process.on('uncaughtException', (error) => fail(error, 'stack'));
process.on('unhandledRejection', (reason) => fail(reason, 'stack'));
program
  .parseAsync(process.argv)
  .then(() => {
    // Done: if a client library still holds a socket open (kafkajs after a broker restart can), exit anyway. The
    // timer is unref'd, so it fires only when something else keeps the process alive.
    setTimeout(() => process.exit(process.exitCode ?? 0), 5_000).unref();
  })
  .catch((error: unknown) => fail(error, 'message'));
