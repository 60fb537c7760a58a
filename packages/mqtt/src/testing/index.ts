export * from './harness.js';
export * from './certs.js';
export { mqttBehaviourSuite } from './behaviour-suite.js';
export { Waitable } from './waitable.js';
export { useScope, TestClient, topicFor, uid } from './behaviours/helpers.js';
