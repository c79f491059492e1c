import { transportConformance } from '../transport/transport-conformance.ts';
import { MemoryTransport } from './memory-log.ts';

// One transport shared across tests, as a process would share it: every test uses its own topics.
const shared = new MemoryTransport();
transportConformance('memory', async () => shared);
