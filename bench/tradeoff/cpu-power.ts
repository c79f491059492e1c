/**
 * The power figure the energy estimate multiplies CPU time by: watts per logical core (a CPU-second on one hardware
 * thread). In order: an explicit option, `DRIFTLINE_BENCH_WATTS_PER_CORE`, the table below (the processor's TDP ÷
 * its hardware threads, TDP from the vendor's specification), else DEFAULT_WATTS_PER_CORE.
 *
 * TDP is what the package dissipates at sustained full load, so this is a full-load figure per busy thread: it
 * leaves out idle power and the rest of the machine, and is an estimate in both directions (turbo exceeds TDP,
 * light loads draw less). Virtual machines often report a generic model name ("Intel(R) Xeon(R) Processor") that
 * no table can resolve: they get the default.
 */

/** 5 W per hardware thread: a mid-range server part (e.g. 150–300 W over 40–64 threads). */
export const DEFAULT_WATTS_PER_CORE = 5;

export const WATTS_PER_CORE_ENV = 'DRIFTLINE_BENCH_WATTS_PER_CORE';

/** [pattern on /proc/cpuinfo's model name, TDP in W, hardware threads]. */
const KNOWN_CPUS: [RegExp, number, number][] = [
  [/Xeon\(R\) Platinum 8375C/, 300, 64],
  [/Xeon\(R\) Platinum 8280\b/, 205, 56],
  [/Xeon\(R\) Platinum 8259CL/, 210, 48],
  [/Xeon\(R\) Gold 6148\b/, 150, 40],
  [/Xeon\(R\) CPU E5-2686 v4/, 145, 36],
  [/EPYC 7763\b/, 280, 128],
  [/Ryzen 9 5950X\b/, 105, 32],
  [/Core\(TM\) i7-1165G7/, 28, 8],
];

export interface PowerFigure {
  wattsPerCore: number;
  /** Where it came from: option, env, `TDP of <model>` or default. */
  source: string;
}

export function wattsPerCore(cpuModel: string, option?: number, env: NodeJS.ProcessEnv = process.env): PowerFigure {
  if (option !== undefined) return { wattsPerCore: positive(option, 'watts per core'), source: 'option' };
  if (env[WATTS_PER_CORE_ENV])
    return { wattsPerCore: positive(Number(env[WATTS_PER_CORE_ENV]), WATTS_PER_CORE_ENV), source: 'env' };
  const known = KNOWN_CPUS.find(([pattern]) => pattern.test(cpuModel));
  if (known)
    return {
      wattsPerCore: known[1] / known[2],
      source: `TDP of ${cpuModel.trim()} (${known[1]} W / ${known[2]} threads)`,
    };
  return { wattsPerCore: DEFAULT_WATTS_PER_CORE, source: 'default' };
}

function positive(n: number, what: string): number {
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${what} must be a positive number of watts, got ${n}`);
  return n;
}
