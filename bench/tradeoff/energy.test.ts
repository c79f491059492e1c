import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_WATTS_PER_CORE, WATTS_PER_CORE_ENV, wattsPerCore } from './cpu-power.ts';
import { estimateMeter, openEnergyMeter } from './energy-meter.ts';
import { counterDeltaUj, findPackageDomains, joulesBetween, readCounters } from './rapl.ts';

/** A fake /sys/class/powercap: zone name → { name, energy_uj, max_energy_range_uj } (energy_uj: null = unreadable). */
function fakePowercap(zones: Record<string, { name: string; energy: number | null; max: number }>): string {
  const root = mkdtempSync(join(tmpdir(), 'driftline-powercap-'));
  for (const [zone, z] of Object.entries(zones)) {
    const dir = join(root, zone);
    mkdirSync(dir);
    writeFileSync(join(dir, 'name'), `${z.name}\n`);
    writeFileSync(join(dir, 'max_energy_range_uj'), `${z.max}\n`);
    // Unreadable: a directory where the counter should be (tests run as root, for whom file modes do not stop reads).
    if (z.energy === null) mkdirSync(join(dir, 'energy_uj'));
    else writeFileSync(join(dir, 'energy_uj'), `${z.energy}\n`);
  }
  return root;
}

const setEnergy = (root: string, zone: string, uj: number) => writeFileSync(join(root, zone, 'energy_uj'), `${uj}\n`);

describe('RAPL reader', () => {
  it('reads package domains only, once per package, and adds them up', () => {
    const root = fakePowercap({
      'intel-rapl:0': { name: 'package-0', energy: 1_000_000, max: 262_143_328_850 },
      'intel-rapl:0:0': { name: 'core', energy: 500_000, max: 262_143_328_850 },
      'intel-rapl:0:1': { name: 'dram', energy: 300_000, max: 65_712_999_613 },
      'intel-rapl:1': { name: 'package-1', energy: 2_000_000, max: 262_143_328_850 },
      'intel-rapl-mmio:0': { name: 'package-0', energy: 9_999_999, max: 262_143_328_850 },
      'intel-rapl:2': { name: 'psys', energy: 4_000_000, max: 262_143_328_850 },
    });
    const domains = findPackageDomains(root);
    expect(domains.map((d) => [d.name, d.dir.split('/').at(-1)])).toEqual([
      ['package-0', 'intel-rapl:0'],
      ['package-1', 'intel-rapl:1'],
    ]);
    const before = readCounters(domains);
    setEnergy(root, 'intel-rapl:0', 3_500_000);
    setEnergy(root, 'intel-rapl:1', 2_250_000);
    setEnergy(root, 'intel-rapl:0:0', 90_000_000); // a subzone moving must not count
    expect(joulesBetween(domains, before, readCounters(domains))).toBeCloseTo(2.75, 9);
  });

  it('handles a counter that wrapped past max_energy_range_uj', () => {
    expect(counterDeltaUj(100, 400, 1000)).toBe(300);
    expect(counterDeltaUj(900, 50, 1000)).toBe(150);
    const root = fakePowercap({ 'intel-rapl:0': { name: 'package-0', energy: 262_143_000_000, max: 262_143_328_850 } });
    const meter = openEnergyMeter({ wattsPerCore: 5, source: 'default' }, root);
    expect(meter.method).toBe('rapl');
    expect(meter.wattsPerCore).toBeNull();
    const joules = meter.start();
    setEnergy(root, 'intel-rapl:0', 671_150); // wrapped: 328,850 µJ to the top, then 671,150 µJ
    expect(joules()).toBeCloseTo(1, 9);
  });

  it('falls back to the estimate when no counter is readable or there is no powercap tree', () => {
    const unreadable = fakePowercap({ 'intel-rapl:0': { name: 'package-0', energy: null, max: 1000 } });
    expect(findPackageDomains(unreadable)).toEqual([]);
    expect(openEnergyMeter({ wattsPerCore: 5, source: 'default' }, unreadable).method).toBe('estimate');
    const onlySubzones = fakePowercap({ 'intel-rapl:0:0': { name: 'core', energy: 1, max: 1000 } });
    expect(openEnergyMeter({ wattsPerCore: 5, source: 'default' }, onlySubzones).method).toBe('estimate');
    expect(openEnergyMeter({ wattsPerCore: 5, source: 'default' }, join(tmpdir(), 'no-such-powercap')).method).toBe(
      'estimate',
    );
  });
});

describe('energy estimate', () => {
  it('is CPU time × watts per core', () => {
    let cpuMicros = 1_000_000;
    const meter = estimateMeter({ wattsPerCore: 4, source: 'option' }, () => cpuMicros);
    expect(meter).toMatchObject({ method: 'estimate', wattsPerCore: 4 });
    const joules = meter.start();
    cpuMicros += 2_500_000; // 2.5 CPU-seconds, e.g. two threads for 1.25 s
    expect(joules()).toBeCloseTo(10, 9);
  });

  it('takes its power figure from the option, the environment, the CPU table, else the default', () => {
    const xeon = 'Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz';
    expect(wattsPerCore(xeon, 7, { [WATTS_PER_CORE_ENV]: '3' })).toEqual({ wattsPerCore: 7, source: 'option' });
    expect(wattsPerCore(xeon, undefined, { [WATTS_PER_CORE_ENV]: '3' })).toEqual({ wattsPerCore: 3, source: 'env' });
    const table = wattsPerCore(xeon, undefined, {});
    expect(table.wattsPerCore).toBeCloseTo(300 / 64, 9);
    expect(table.source).toMatch(/TDP of .*8375C/);
    expect(wattsPerCore('Intel(R) Xeon(R) Processor', undefined, {})).toEqual({
      wattsPerCore: DEFAULT_WATTS_PER_CORE,
      source: 'default',
    });
    expect(() => wattsPerCore(xeon, undefined, { [WATTS_PER_CORE_ENV]: 'lots' })).toThrow(WATTS_PER_CORE_ENV);
    expect(() => wattsPerCore(xeon, -1, {})).toThrow(/positive/);
  });
});
