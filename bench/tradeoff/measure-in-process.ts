/** Runs one measurement (model variant × backend × threads) in its own process: see measure-process.ts for why. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Backend } from './backend-session.ts';
import type { BenchPlan } from './bench-plan.ts';
import type { EnergyMethod } from './energy-meter.ts';
import type { VariantMeasurement } from './measure-variant.ts';

const ENTRY = fileURLToPath(new URL('./measure-child.js', import.meta.url));

export interface MeasureJob {
  manifestPath: string;
  home: string;
  modelId: string;
  modelVersion: string;
  backend: Backend;
  threads: number;
  plan: BenchPlan;
  energy: { method: EnergyMethod; wattsPerCore: number | null; powercapRoot?: string };
  runId: string;
  writtenAt: number;
  /** Known accuracy (onnxruntime: `models eval`'s); null = compute it on this backend. */
  accuracy: number | null;
}

export type MeasureReply = VariantMeasurement & { accuracy: number | null };

export function measureInProcess(job: MeasureJob): Promise<MeasureReply> {
  return new Promise((resolve, reject) => {
    const child = fork(ENTRY, [], {
      execArgv: [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    let settled = false;
    child.once('message', (m: { result?: MeasureReply; error?: string }) => {
      settled = true;
      if (m.error !== undefined) reject(new Error(m.error));
      else resolve(m.result!);
    });
    child.once('error', (error) => {
      if (!settled) reject(error);
      settled = true;
    });
    child.once('exit', (code, signal) => {
      if (!settled)
        reject(
          new Error(
            `measurement process exited (${signal ?? `code ${code}`}) without an ` +
              `answer${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`,
          ),
        );
      settled = true;
    });
    child.send(job);
  });
}
