import type { IDisconnectPacket, Packet } from 'mqtt-packet';
import { RC } from '../../reason-codes.js';
import type { MqttConnection } from '../connection.js';

/** PINGREQ (§3.12): PINGRESP. */
export function handlePingreq(c: MqttConnection): void {
  c.write(PINGRESP);
}

/** PINGRESP, the same two bytes in every protocol version. */
const PINGRESP = Buffer.from([0xd0, 0x00]);

/** DISCONNECT from the client (§3.14). */
export function handleDisconnect(c: MqttConnection, p: IDisconnectPacket): void {
  const h = c.handle!;
  if (c.version === 5) {
    const expiry = p.properties?.sessionExpiryInterval;
    if (expiry !== undefined) {
      // [MQTT-3.14.2-2] a session that was to end with the connection cannot be extended here.
      if (c.connectExpiry === 0 && expiry !== 0) return c.protocolError('session expiry set on DISCONNECT after 0 on CONNECT');
      h.setSessionExpiry(expiry);
    }
  }
  // [MQTT-3.14.4-3] only reason 0x00 discards the will.
  const code = c.version === 5 ? (p.reasonCode ?? 0) : 0;
  h.close(code === RC.SUCCESS ? 'normal' : 'normal_with_will');
  c.destroy('client_disconnect');
}
