export { MqttSnTestClient, type TestConnectOptions, type TestTopic, type TestWill } from './client.js';
export { startMqttSnGateway, type MqttSnHarness, type MqttSnHarnessOptions } from './harness.js';
