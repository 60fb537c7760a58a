export * from './harness.js';
export * from './certs.js';
export { mqttBehaviourSuite } from './behaviour-suite.js';
export { RawClient, emptyClientIdConnect } from './raw-client.js';
export { Waitable, sleep } from './waitable.js';
export { useScope, Scope, TestClient, topicFor, uid, type ProtocolVersion, type Received } from './behaviours/helpers.js';
