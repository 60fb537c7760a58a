export { LocalHub, type LocalHubOptions } from './hub.js';
export { LocalLink, type LocalLinkOptions } from './link.js';
export { LocalRetainedStore } from './retained.js';
export { clusterHubPort, memoryPorts, processWorkerPort } from './ports.js';
export { isToHub, isToWorker, type HubPort, type Port, type ToHub, type ToWorker, type WorkerPort } from './protocol.js';
export type { LocalHubStats, LocalLinkStats } from './stats.js';
