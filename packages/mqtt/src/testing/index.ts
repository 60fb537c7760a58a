export * from './harness.js';
export * from './certs.js';
export { mqttBehaviourSuite } from './behaviour-suite.js';
