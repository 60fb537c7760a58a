/** @junction/bench: the benchmark as a library (the CLI is src/cli.ts). */
export { runScenario, planWorkers, type BenchResult, type RunOptions } from './runner.js';
export { compare, startBroker, stopBroker, type CompareOptions } from './compare.js';
export { resolveConfig, parseLabel, DEFAULTS, SCENARIO_DEFAULTS, SHARED_BENCH_LABELS, type RunConfig, type BaseScenario } from './scenarios.js';
export { table, median } from './report.js';
export { Histogram } from './histogram.js';
export { SeqTracker } from './tracker.js';
export { HEADER_BYTES, encodeHeader, decodeHeader, writeHeader, readPub, readSeq, readTimeNs, type PayloadHeader } from './header.js';
