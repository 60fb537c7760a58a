import { MemoryRecordStore } from '../src/index.js';
import { recordStoreSuite } from '../src/testing/index.js';

recordStoreSuite('MemoryRecordStore', () => new MemoryRecordStore());
