import { describe, expect, it } from 'vitest';
import {
  aBoolean,
  nonNegativeInteger,
  oneOf,
  type OptionRules,
  parseOptions,
  positiveNumber,
  shareOfOne,
} from './pipeline-options.ts';

interface Options {
  windowDays?: number;
  budget?: number;
  threshold?: number;
  clock?: 'event-time' | 'wall';
  train?: boolean;
}

const rules: OptionRules<Options> = {
  windowDays: positiveNumber,
  budget: nonNegativeInteger,
  threshold: shareOfOne,
  clock: oneOf('event-time', 'wall'),
  train: aBoolean,
};

describe('pipeline options', () => {
  it('returns the options given, typed; none given is no options', () => {
    const options = parseOptions('p', rules, { windowDays: 7, budget: 0, threshold: 1, clock: 'wall', train: false });
    expect(options).toEqual({ windowDays: 7, budget: 0, threshold: 1, clock: 'wall', train: false });
    expect(parseOptions('p', rules, undefined)).toEqual({});
  });

  it('rejects an option the pipeline does not have by name, with the near one and the whole list', () => {
    expect(() => parseOptions('p', rules, { windowDay: 7 })).toThrow(
      'pipeline "p" has no option "windowDay" (did you mean "windowDays"?); its options are windowDays, budget, ' +
        'threshold, clock, train',
    );
    expect(() => parseOptions('p', rules, { colour: 'red' })).toThrow(
      'pipeline "p" has no option "colour"; its options are',
    );
  });

  it('names the option and the type it must have when a value is wrong', () => {
    expect(() => parseOptions('p', rules, { windowDays: '30' })).toThrow(
      'pipeline "p": config option "windowDays" must be a positive number, got "30"',
    );
    expect(() => parseOptions('p', rules, { budget: 2.5 })).toThrow(
      'config option "budget" must be an integer >= 0, got 2.5',
    );
    expect(() => parseOptions('p', rules, { threshold: 0 })).toThrow(
      'config option "threshold" must be a number in (0, 1], got 0',
    );
    expect(() => parseOptions('p', rules, { clock: 'sun' })).toThrow(
      'config option "clock" must be "event-time" or "wall", got "sun"',
    );
    expect(() => parseOptions('p', rules, { train: 'no' })).toThrow(
      'config option "train" must be true or false, got "no"',
    );
    expect(() => parseOptions('p', rules, { windowDays: null })).toThrow(
      'config option "windowDays" must be a positive number, got null',
    );
  });

  it('refuses options that are not an object', () => {
    expect(() => parseOptions('p', rules, [1])).toThrow(
      'pipeline "p": options must be an object of option names to values, got [1]',
    );
  });
});
