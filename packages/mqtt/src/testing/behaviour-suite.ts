import { describe } from 'vitest';
import type { TransportFixture } from './harness.js';

/**
 * The MQTT behaviour suite, run once per transport (TCP, TLS, WebSocket, QUIC) and protocol
 * version. Each behaviour lives in its own file under ./behaviours/.
 */
export function mqttBehaviourSuite(fixture: TransportFixture): void {
  describe(`MQTT behaviour over ${fixture.name}`, () => {});
}
