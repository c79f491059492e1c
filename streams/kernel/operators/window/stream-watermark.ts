// The stream clock lives with the windower in streams/; kept here for operator imports.
export { StreamWatermark } from '../../windower-watermark.ts';
