// While the background process of a test run (test/shared-models-pretrain.ts) trains a shared model kind,
// `<cache>/<kind>.pending` holds its pid: written by test/sequencer.ts when it starts the process, removed by the
// process once that kind is stored. Test files that need the kind meanwhile wait (test/shared-models.ts).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const pendingFile = (cacheRoot: string, kindName: string) => join(cacheRoot, `${kindName}.pending`);

/** The pid a `.pending` file names, if that process is still alive (a killed trainer leaves its file behind). */
export function pendingTrainer(file: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** The live trainers of every `.pending` file under `cacheRoot`. */
export function pendingTrainers(cacheRoot: string): number[] {
  const files = readdirSync(cacheRoot).filter((f) => f.endsWith('.pending'));
  return [...new Set(files.map((f) => pendingTrainer(join(cacheRoot, f))).filter((pid) => pid !== undefined))];
}
