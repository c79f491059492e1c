import { Command, InvalidArgumentError } from 'commander';
import { redactText } from '../config/redact.ts';
import { pipelines } from '../streams/pipelines/registry.ts';
import { modelKinds } from '../models/kinds.ts';
import { benchCommand } from './bench.ts';
import { demoCommand } from './demo.ts';
import { labelImportCommand } from './label.ts';
import { modelsEval, modelsList, modelsParity, modelsPromote, modelsQuantize, modelsTrain } from './models.ts';
import { produceCommand } from './produce.ts';
import { replayCommand } from './replay.ts';
import { reportBuildCommand, reportPreviewCommand } from './report.ts';
import { runCommand } from './run.ts';
import { sqlCommand } from './sql.ts';

const positiveNumber = (value: string) => {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('must be a positive number');
  return n;
};

const program = new Command('driftline')
  .description('Typed stream-processing dataflows for ML pipelines: Kafka in, models, drift and cost reports out.')
  .showHelpAfterError()
  .addHelpText(
    'after',
    `\nPipelines: ${pipelines.map((p) => p.name).join(', ')}\n` +
      'Environment: DRIFTLINE_HOME (state, default .driftline), DRIFTLINE_DATA_DIR (datasets),\n' +
      '             KAFKA_BROKERS, CLICKHOUSE_URL, SCHEMA_REGISTRY_URL (use real services instead of embedded ones)',
  );

program
  .command('run')
  .description("run a pipeline on its input topic (or on files with --input) until stopped")
  .argument('<pipeline>', `one of: ${pipelines.map((p) => p.name).join(', ')}`)
  .option('--input <file|dir>', 'read these files directly instead of the input topic (stops at their end)')
  .option('--until-idle', 'stop once everything in the input has been processed')
  .option('--config <file>', 'JSON file with per-pipeline options: {"pipelines": {"<name>": {...}}}')
  .option('--group <id>', 'consumer group (default <DRIFTLINE_TOPIC_PREFIX>driftline-<pipeline>)')
  .action(async (name: string, options) => {
    await runCommand(name, options);
  });

program
  .command('produce')
  .description("publish input files to a pipeline's input topic")
  .argument('<pipeline>', `one of: ${pipelines.map((p) => p.name).join(', ')}`)
  .argument('<paths...>', 'files or directories')
  .option('--rate <records/s>', 'pace publishing to this many records per second', positiveNumber)
  .option('--speed <factor>', 'replay at event-time pace: 1 = original, 60 = sixty times faster (default: as fast as possible)', positiveNumber)
  .option('--config <file>', 'JSON file with per-pipeline options; produce applies those of the source, e.g. frames {"drift": {...}}')
  .action(async (name: string, paths: string[], options) => {
    await produceCommand(name, paths, options);
  });

program
  .command('replay')
  .description('replay recorded input through a pipeline in event time')
  .argument('<pipeline>', `one of: ${pipelines.map((p) => p.name).join(', ')}`)
  .option('--from <ISO time>', 'replay records with event time at or after this (ISO; zone-less = UTC; or epoch ms)')
  .option('--to <ISO time>', 'replay records with event time before this')
  .option('--input <file|dir>', 'replay these files instead of the recorded input topic')
  .option('--topic <topic>', 'the recorded topic, full name (default <DRIFTLINE_TOPIC_PREFIX><pipeline input topic>)')
  .option('--run-id <id>', 'run id for the warehouse rows (default replay-<time>-<random>)')
  .option('--config <file>', 'JSON file with per-pipeline options, as for run')
  .option('--sort-memory <MB>', 'input sorted in memory before sorted runs spill to disk (default 64)', positiveNumber)
  .addHelpText('after', '\nSide-output topics (windows, dead letters) go to DRIFTLINE_HOME/replays/<run id>/log, never to live topics.')
  .action(async (name: string, options) => {
    await replayCommand(name, options);
  });

const models = program
  .command('models')
  .description('train, quantize, evaluate and promote models (manifest and artifacts under DRIFTLINE_HOME/models; DRIFTLINE_MODELS_MANIFEST names another manifest)');
models.command('list').description('every registered version with its lineage and stage').action(() => modelsList());
models
  .command('train')
  .description(`train a model on the data directory and register it as a candidate (kinds: ${Object.keys(modelKinds).join(', ')})`)
  .argument('<kind>')
  .option('--data <dir>', 'datasets laid out as in shared/data (default DRIFTLINE_DATA_DIR, else ../shared/data)')
  .option('--id <id>', 'model id (default per kind, e.g. postings-a)')
  .option('--seed <n>', 'training seed', positiveNumber)
  .action(async (kind: string, options) => {
    await modelsTrain(kind, options);
  });
models
  .command('quantize')
  .description('derive an int8 (or fp16) variant of an fp32 version and register it with its parent')
  .argument('<id>')
  .option('--version <v>', 'the fp32 version (default: production, else latest)')
  .option('--precision <int8|fp16>', 'target precision', 'int8')
  .action(async (id: string, options) => {
    await modelsQuantize(id, options);
  });
models
  .command('eval')
  .description('accuracy of a version on its held-out data')
  .argument('<id>')
  .option('--version <v>')
  .action(async (id: string, options) => {
    await modelsEval(id, options);
  });
models
  .command('parity')
  .description('compare a variant with its parent on held-out data; exits 1 outside tolerance')
  .argument('<id>')
  .option('--version <v>', 'the variant (default: production, else latest)')
  .option('--against <version>', 'reference version (default: the variant\'s parent)')
  .option('--abs-tol <x>', 'largest allowed absolute difference of any probability', Number, 0.04)
  .option('--mean-tol <x>', 'largest allowed mean absolute difference', Number, 0.01)
  .action(async (id: string, options) => {
    await modelsParity(id, options);
  });
models
  .command('promote')
  .description('make a version the production one (the previous one is archived)')
  .argument('<id>')
  .argument('<version>')
  .action((id: string, version: string) => modelsPromote(id, version));

program
  .command('label')
  .description('ground-truth labels')
  .command('import')
  .description('publish labels from a JSON Lines or JSON array file to the labels topic (format: connectors/labels/README.md); invalid entries go to labels.dlq')
  .argument('<file>')
  .option('--classes <names>', 'comma-separated class names in index order, for labels given by name (default: the postings classes software_engineering,data_science)')
  .option('--source <name>', 'who labelled them, for entries that do not say (default file:<file name>)')
  .action(async (file: string, options) => {
    await labelImportCommand(file, options);
  });
program
  .command('bench')
  .description('the trade-off benchmark: latency, throughput, memory, energy and accuracy of every registered model variant per backend (bench/tradeoff/README.md)')
  .option('--quick', 'a short run (under 2 minutes): fewer repeats, batch sizes and Server rates')
  .option('--out <file>', 'JSON results file (default DRIFTLINE_HOME/bench/<run id>.json)')
  .option('--repeats <n>', 'measured repetitions per scenario (default 10, --quick 3)', positiveNumber)
  .option('--server-bound-ms <ms>', 'Server scenario: p99 latency bound (default 10)', positiveNumber)
  .option('--watts-per-core <W>', 'power figure of the energy estimate when RAPL is not readable (default: env DRIFTLINE_BENCH_WATTS_PER_CORE, else from the CPU model, else 5)', positiveNumber)
  .action(async (options) => {
    await benchCommand(options);
  });
const report = program.command('report').description('the static report site');
report
  .command('build')
  .description('export page data from the warehouse and build the static site (offline; Observable Framework)')
  .option('--out <dir>', 'where the site goes (default DRIFTLINE_HOME/report; emptied first)')
  .option('--config <file>', 'JSON settings file, as for run')
  .action(async (options) => {
    await reportBuildCommand(options);
  });
report
  .command('preview')
  .description('serve the built site on 127.0.0.1 until Ctrl-C')
  .option('--dir <dir>', 'the built site (default DRIFTLINE_HOME/report)')
  .option('--port <port>', 'port (default 3000; 0 picks a free one)', Number)
  .option('--host <host>', 'interface to listen on (default 127.0.0.1)')
  .action(async (options) => {
    await reportPreviewCommand(options);
  });
program
  .command('sql')
  .description('run SQL on the warehouse')
  .argument('<query>')
  .option('--format <table|json|csv>', 'output format', 'table')
  .addHelpText('after', '\nTables: postings, frames, events, predictions, labels, model_comparison, dead_letters, pipeline_metrics, pipeline_runs.\nOn ClickHouse, add FINAL after a table name to see each id once (redelivered rows are merged).')
  .action(async (query: string, options) => {
    await sqlCommand(query, options);
  });

program
  .command('demo')
  .description('the whole journey on embedded defaults (what `npm start` runs)')
  .option('--data <dir>', 'datasets laid out as in shared/data (default: DRIFTLINE_DATA_DIR, else generated fixtures)')
  .action(async (options) => {
    await demoCommand(options);
  });

// Errors can quote a connection URL or a library's config: printed redacted (config/redact.ts).
const fail = (error: unknown, detail: 'message' | 'stack') => {
  const text = error instanceof Error ? (detail === 'stack' ? (error.stack ?? error.message) : error.message) : String(error);
  process.stderr.write(`driftline: ${redactText(text)}\n`);
  process.exit(1);
};
process.on('uncaughtException', (error) => fail(error, 'stack'));
process.on('unhandledRejection', (reason) => fail(reason, 'stack'));
program.parseAsync(process.argv).catch((error: unknown) => fail(error, 'message'));
