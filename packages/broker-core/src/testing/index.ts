export { retainedStoreSuite } from './retained-store-suite.js';
