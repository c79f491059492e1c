import avro from 'avsc';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { AvroType } from './avro-type.ts';
import type { CameraFrame } from './camera-frame.ts';
import type { DeadLetterRecord } from './dead-letter-record.ts';
import type { Event } from './event.ts';
import type { JobPostingRecord as JobPosting } from './job-posting.ts';
import type { Prediction } from './prediction.ts';
import { SchemaValidationError, decode, encode, schemaNames, schemas, validate, type RecordOf } from './registry.ts';

const jobPosting: JobPosting = {
  id: 'bd-123',
  source: 'brightdata-linkedin',
  title: 'Senior ML Engineer',
  company: 'Acme',
  location: null,
  description: 'Build pipelines.',
  skills: ['python', 'kafka'],
  salary_min: 120000,
  salary_max: 160000.5,
  salary_currency: 'EUR',
  salary_period: 'year',
  seniority: 'senior',
  employment_type: null,
  posted_at: 1_700_000_000_000,
  scraped_at: null,
  url: 'https://example.com/jobs/123',
  label: 1,
};

const cameraFrame: CameraFrame = {
  camera_id: 'cam-1',
  sequence: 42,
  captured_at: 1_700_000_000_123,
  width: 2,
  height: 2,
  channels: 1,
  encoding: 'raw_gray8',
  data: Buffer.from([0, 64, 128, 255]),
};

const event: Event = {
  source: 'sensor',
  key: 'line-3',
  ts: 1_700_000_000_000,
  value: 3.25,
  values: { temp: 21.5, rpm: 1200 },
  attributes: { unit: 'C' },
};

const prediction: Prediction = {
  record_id: 'bd-123',
  model_id: 'jobs-clf',
  model_version: '2026-11-01',
  label: 1,
  probabilities: [0.25, 0.75],
  confidence: 0.75,
  latency_ms: 1.5,
  predicted_at: 1_700_000_000_456,
};

const deadLetter: DeadLetterRecord = {
  stage: 'parse',
  error: 'Unexpected token',
  topic: 'jobs.raw',
  partition: 3,
  offset: 2 ** 40,
  key: null,
  original: Buffer.from('{"broken'),
  event_time: 1_700_000_000_000,
  failed_at: 1_700_000_001_000,
};

const samples: { [N in keyof typeof schemas]: RecordOf<N> } = {
  JobPosting: jobPosting,
  CameraFrame: cameraFrame,
  Event: event,
  Prediction: prediction,
  DeadLetterRecord: deadLetter,
};

describe('AvroType (type level)', () => {
  it('maps schemas to the expected TypeScript types', () => {
    expectTypeOf<JobPosting['company']>().toEqualTypeOf<string | null>();
    expectTypeOf<JobPosting['salary_min']>().toEqualTypeOf<number | null>();
    expectTypeOf<JobPosting['posted_at']>().toEqualTypeOf<number | null>();
    expectTypeOf<JobPosting['label']>().toEqualTypeOf<number | null>();
    expectTypeOf<JobPosting['skills']>().toEqualTypeOf<string[]>();
    expectTypeOf<CameraFrame['encoding']>().toEqualTypeOf<'raw_gray8' | 'raw_rgb8' | 'jpeg' | 'png'>();
    expectTypeOf<CameraFrame['data']>().toEqualTypeOf<Buffer>();
    expectTypeOf<Event['values']>().toEqualTypeOf<Record<string, number>>();
    expectTypeOf<Event['attributes']>().toEqualTypeOf<Record<string, string>>();
    expectTypeOf<Prediction['probabilities']>().toEqualTypeOf<number[]>();
    expectTypeOf<DeadLetterRecord['key']>().toEqualTypeOf<string | null>();
    expectTypeOf<AvroType<'boolean'>>().toEqualTypeOf<boolean>();
    expectTypeOf<AvroType<{ type: 'long'; logicalType: 'timestamp-millis' }>>().toEqualTypeOf<number>();
    // Excess/misspelled fields are compile errors:
    // @ts-expect-error `salary` is not a JobPosting field
    const bad: JobPosting = { ...jobPosting, salary: 1 };
    void bad;
  });
});

describe('round trips', () => {
  for (const name of schemaNames) {
    it(`${name}: encode -> decode is lossless`, () => {
      const value = samples[name];
      expect(validate(name, value)).toEqual([]);
      const buf = encode(name, value as never);
      expect(Buffer.isBuffer(buf)).toBe(true);
      expect(decode(name, buf)).toEqual(value);
    });

    it(`${name}: random values from the avsc type round-trip`, () => {
      const type = schemas[name].type;
      for (let i = 0; i < 20; i++) {
        const value = type.random();
        expect(type.isValid(value)).toBe(true);
        expect(type.equals(type)).toBe(true);
        expect(decode(name, encode(name, value as never))).toEqual(value);
      }
    });
  }

  it('Avro binary is compact compared with JSON for a frame', () => {
    const big: CameraFrame = { ...cameraFrame, width: 64, height: 64, data: Buffer.alloc(64 * 64, 7) };
    const avroSize = encode('CameraFrame', big).length;
    expect(avroSize).toBeLessThan(64 * 64 + 64);
    expect(avroSize).toBeLessThan(JSON.stringify(big).length / 2);
  });

  it('Event map fields default to {} when reading data written without them', () => {
    const older = {
      type: 'record',
      name: 'Event',
      namespace: 'driftline',
      fields: [
        { name: 'source', type: 'string' },
        { name: 'key', type: 'string' },
        { name: 'ts', type: 'long' },
        { name: 'value', type: 'double' },
      ],
    };
    // written by a producer that only knew the four scalar fields
    const oldBuf = avro.Type.forSchema(older as avro.schema.RecordType).toBuffer({
      source: 's',
      key: 'k',
      ts: 1,
      value: 2,
    });
    expect(decode('Event', oldBuf, older)).toEqual({
      source: 's',
      key: 'k',
      ts: 1,
      value: 2,
      values: {},
      attributes: {},
    });
  });
});

describe('validation', () => {
  it('returns no errors for a valid record', () => {
    expect(validate('JobPosting', jobPosting)).toEqual([]);
  });

  it('names the field, the expected type and the bad value', () => {
    expect(validate('JobPosting', { ...jobPosting, salary_min: 'abc' })).toEqual([
      'salary_min: expected null|double, got "abc"',
    ]);
  });

  it('collects every problem, with paths into arrays, enums and missing fields', () => {
    const { title: _omit, ...noTitle } = jobPosting;
    const errors = validate('JobPosting', { ...noTitle, skills: ['python', 3], label: 1.5, extra: true });
    expect(errors).toEqual([
      'title: expected string, got undefined (missing)',
      'skills[1]: expected string, got 3',
      'label: expected null|int, got 1.5',
      'extra: unexpected field (not in schema driftline.JobPosting)',
    ]);
    expect(validate('CameraFrame', { ...cameraFrame, encoding: 'bmp', data: 'not bytes' })).toEqual([
      'encoding: expected one of "raw_gray8"|"raw_rgb8"|"jpeg"|"png", got "bmp"',
      'data: expected bytes, got "not bytes"',
    ]);
    expect(validate('Event', { ...event, values: { temp: 'hot' } })).toEqual([
      'values.temp: expected double, got "hot"',
    ]);
  });

  it('rejects longs beyond Number.MAX_SAFE_INTEGER and non-records', () => {
    expect(validate('DeadLetterRecord', { ...deadLetter, offset: 2 ** 60 })).toEqual([
      `offset: expected long, got ${2 ** 60}`,
    ]);
    expect(validate('Prediction', null)).toEqual(['(root): expected record driftline.Prediction, got null']);
  });

  it('encode throws a SchemaValidationError naming the bad field', () => {
    let caught: unknown;
    try {
      encode('JobPosting', { ...jobPosting, salary_min: 'abc' } as unknown as JobPosting);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SchemaValidationError);
    expect((caught as SchemaValidationError).message).toBe(
      'Invalid JobPosting: salary_min: expected null|double, got "abc"',
    );
    expect((caught as SchemaValidationError).errors).toEqual(['salary_min: expected null|double, got "abc"']);
  });
});
