// Worker bootstrap: the load workers are TypeScript; a worker thread does not inherit the
// parent's `--import tsx` loader, so register it here before importing the entry. (A compiled
// entry, .js, is imported as is.)
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(workerData.entry);
