/**
 * Which version of a model is in force at an event time: a list of (from, version), oldest first. A version promoted
 * by a fine-tune triggered at event time T is in force from T + 1 ms: records up to T were scored before its training
 * data was complete.
 */
export interface TimedVersion {
  /** First event time (epoch ms) the version scores; -Infinity for the version the stream started with. */
  from: number;
  version: string;
}

export class VersionTimeline {
  private readonly entries: TimedVersion[];

  constructor(initial: string) {
    this.entries = [{ from: -Infinity, version: initial }];
  }

  /** Adds a version in force from `from`, which must be after every earlier start. */
  add(from: number, version: string): void {
    const last = this.entries.at(-1)!;
    if (from <= last.from)
      throw new Error(`version ${version} would start at ${from}, not after ${last.version} (from ${last.from})`);
    this.entries.push({ from, version });
  }

  /** The version scoring a record of this event time. */
  at(eventTime: number): string {
    for (let i = this.entries.length - 1; i > 0; i--)
      if (this.entries[i]!.from <= eventTime) return this.entries[i]!.version;
    return this.entries[0]!.version;
  }

  latest(): string {
    return this.entries.at(-1)!.version;
  }

  list(): readonly TimedVersion[] {
    return this.entries;
  }
}
