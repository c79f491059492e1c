import type { Settings } from '../../config/settings.ts';
import { buildReport } from '../../reports/build.ts';

/**
 * `driftline report build` (reports/build.ts), in process, from the demo's embedded warehouse; returns the site folder.
 */
export async function buildDemoReport(settings: Settings, log: (line: string) => void): Promise<string> {
  return (await buildReport({ settings, log })).siteDir;
}
