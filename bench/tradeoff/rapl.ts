/**
 * Intel/AMD RAPL energy counters from the powercap sysfs tree (`/sys/class/powercap/<zone>/energy_uj`).
 *
 * Only package domains count (a zone whose `name` starts with `package-`): their subzones (`core`, `uncore`,
 * `dram`) are parts of the package or outside it, and `psys` covers the whole platform, so adding them would count
 * energy twice. When both `intel-rapl:N` and `intel-rapl-mmio:N` expose the same package, the first is kept. A
 * counter wraps to 0 after `max_energy_range_uj`; one wrap between two readings is accounted for (readings here are
 * seconds apart, a wrap takes minutes even at full power). Since 2020 kernels make `energy_uj` readable by root
 * only: then there is no RAPL reader and the benchmark estimates energy instead.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const POWERCAP_ROOT = '/sys/class/powercap';

export interface RaplDomain {
  /** The zone's directory. */
  dir: string;
  /** `package-0`, … */
  name: string;
  maxRangeUj: number;
}

const readNumber = (file: string) => {
  const n = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isFinite(n)) throw new Error(`${file} does not hold a number`);
  return n;
};

/** Package domains under `root` whose counters can be read now; empty when there are none or none is readable. */
export function findPackageDomains(root = POWERCAP_ROOT): RaplDomain[] {
  let zones: string[];
  try {
    zones = readdirSync(root);
  } catch {
    return [];
  }
  // intel-rapl:* before intel-rapl-mmio:* so the MSR zone wins when both expose a package
  zones.sort((a, b) => Number(a.includes('mmio')) - Number(b.includes('mmio')) || a.localeCompare(b));
  const domains = new Map<string, RaplDomain>();
  for (const zone of zones) {
    const dir = join(root, zone);
    try {
      const name = readFileSync(join(dir, 'name'), 'utf8').trim();
      if (!name.startsWith('package-') || domains.has(name)) continue;
      readNumber(join(dir, 'energy_uj')); // readable?
      domains.set(name, { dir, name, maxRangeUj: readNumber(join(dir, 'max_energy_range_uj')) });
    } catch {
      // not a zone, or not readable by this user
    }
  }
  return [...domains.values()];
}

/** The current counters of `domains`, in µJ, in the same order. */
export function readCounters(domains: RaplDomain[]): number[] {
  return domains.map((d) => readNumber(join(d.dir, 'energy_uj')));
}

/** µJ consumed between two readings of one counter, allowing for one wrap past `maxRangeUj`. */
export function counterDeltaUj(before: number, after: number, maxRangeUj: number): number {
  return after >= before ? after - before : maxRangeUj - before + after;
}

/** Joules over all package domains between two `readCounters` results. */
export function joulesBetween(domains: RaplDomain[], before: number[], after: number[]): number {
  let uj = 0;
  domains.forEach((d, i) => {
    uj += counterDeltaUj(before[i]!, after[i]!, d.maxRangeUj);
  });
  return uj / 1e6;
}
