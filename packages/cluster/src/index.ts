export { clusterConfigSchema, defaultClusterConfig, type ClusterConfig } from './config.js';
export { ClusterNode, type ClusterNodeOptions } from './node.js';
export type { ClusterStats } from './stats.js';
export { ClusterRetainedStore, retainedKey } from './retained.js';
export { ClientRegistry, RegistryConflictError, type RegistryEntry } from './registry.js';
export { decodeFrame, encodeFrame, FrameError, type Frame } from './frame.js';
export { decodeLevel, encodeLevel, filterToSubjects, subjectToTopic, topicToSubject, SubjectDecodeError } from './subject.js';
export { ClusterRecordStore, recordKey } from './records.js';
export * from './local/index.js';
