import { readImageFiles } from '../../connectors/camera/image-directory.ts';
import type { Message } from '../../streams/kernel/transport/transport.ts';
import { eventsPipeline } from '../../streams/pipelines/events.ts';
import { framesPipeline } from '../../streams/pipelines/frames.ts';
import type { PipelineDefinition } from '../../streams/pipelines/pipeline-definition.ts';
import { postingsPipeline } from '../../streams/pipelines/postings.ts';
import type { DemoData } from './data.ts';

/** One pipeline's part of the demo: its input files and the options that fit the data (what `--config` would say). */
export interface DemoReplayPlan {
  definition: PipelineDefinition;
  files: string[];
  options: Record<string, unknown>;
  read?: (files: string[]) => AsyncIterable<Message[]>;
  /** One line on what is replayed and how. */
  about: string;
}

/** The lighting fault starts at 60 % of the frames: several clean windows before it, a few drifted after. */
export const frameShiftAt = (data: Pick<DemoData, 'frames'>) => Math.round(data.frames.length * 0.6);

/** The demo camera starts here, one frame a second (NEU-DET frames have no time of their own). */
const CAMERA_START = Date.UTC(2026, 0, 5, 6);

/**
 * The three pipelines over the data's timeline. Sizes differ between the real data and the generated fixtures, so
 * windows do too: the real data gets the windows its tests use (postings: monthly, drift against the first 5,000
 * postings of 2013–14; frames: 250-frame windows), the fixtures proportionally smaller ones.
 */
export function demoReplays(data: DemoData): DemoReplayPlan[] {
  const real = !data.generated;
  const frameWindow = real ? 250 : 100;
  const shiftAt = frameShiftAt(data);
  return [
    {
      definition: postingsPipeline,
      files: data.postings,
      // Model A learned Glassdoor 2020; the stream's own first postings (HN 2013–14) are the "before" drift is measured
      // against.
      options: {
        windowDays: 30,
        driftReference: 'warm-up',
        warmUpRecords: real ? 5000 : 400,
        minWindowSize: real ? 200 : 30,
        retrainEvery: real ? 200 : 400,
      },
      about:
        'HN 2013–2018 and 2026 postings (2026 roles as late labels), monthly windows, Model B fine-tuned along the way',
    },
    {
      definition: framesPipeline,
      files: data.frames,
      read: (files) => readImageFiles(files, { cameraId: 'line-1', fps: 1, startAt: CAMERA_START }),
      options: {
        driftWindowFrames: frameWindow,
        driftMinWindow: frameWindow,
        drift: { from: shiftAt, brightness: 0.3 },
      },
      about:
        `${data.frames.length} frames, one a second, a lighting fault (+0.3 brightness) from ` +
        `frame ${shiftAt}, drift windows of ${frameWindow} frames`,
    },
    {
      definition: eventsPipeline,
      files: data.events,
      options: { windowMinutes: 24 * 60, ...(data.nabWindows ? { labelsFile: data.nabWindows } : {}) },
      about:
        `${data.events.length} series, daily window statistics, change points scored against the labelled ` +
        `anomaly windows`,
    },
  ];
}
