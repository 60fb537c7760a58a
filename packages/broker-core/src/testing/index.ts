export { retainedStoreSuite } from './retained-store-suite.js';
export { ManualClock } from './manual-clock.js';
export { RecordingSink } from './recording-sink.js';
export { sessionStoreSuite } from './session-store-suite.js';
export { recordStoreSuite } from './record-store-suite.js';
