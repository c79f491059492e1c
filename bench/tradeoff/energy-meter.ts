/**
 * Energy over a stretch of work, labelled with how it was obtained: `rapl` (package counters, the whole CPU
 * package: other processes on the machine count too) when readable, else `estimate` (this process's CPU time —
 * every thread, ONNX Runtime's included — × watts per core).
 */
import { cpuUsage } from 'node:process';
import type { PowerFigure } from './cpu-power.ts';
import { type RaplDomain, findPackageDomains, joulesBetween, readCounters } from './rapl.ts';

export type EnergyMethod = 'rapl' | 'estimate';

export interface EnergyMeter {
  readonly method: EnergyMethod;
  /** The power figure of the estimate; null with RAPL. */
  readonly wattsPerCore: number | null;
  /** Starts a measurement; call the returned function for the joules since. */
  start(): () => number;
}

export function raplMeter(domains: RaplDomain[]): EnergyMeter {
  return {
    method: 'rapl',
    wattsPerCore: null,
    start() {
      const before = readCounters(domains);
      return () => joulesBetween(domains, before, readCounters(domains));
    },
  };
}

export function estimateMeter(
  power: PowerFigure,
  cpuMicros: () => number = () => {
    const u = cpuUsage();
    return u.user + u.system;
  },
): EnergyMeter {
  return {
    method: 'estimate',
    wattsPerCore: power.wattsPerCore,
    start() {
      const before = cpuMicros();
      return () => ((cpuMicros() - before) / 1e6) * power.wattsPerCore;
    },
  };
}

/** RAPL when `powercapRoot` has readable package domains, else the estimate with `power`. */
export function openEnergyMeter(power: PowerFigure, powercapRoot?: string): EnergyMeter {
  const domains = findPackageDomains(powercapRoot);
  return domains.length > 0 ? raplMeter(domains) : estimateMeter(power);
}
