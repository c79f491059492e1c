export { readBrightData } from './brightdata.ts';
export { readGlassdoor, glassdoorRecords, loadPostingsCsvConfig, type PostingsCsvConfig } from './glassdoor.ts';
export { readHn2013, readHn2026, hn2013Files, hn2026Files } from './hn.ts';
export { jsonRecords, inBatches } from './batches.ts';
