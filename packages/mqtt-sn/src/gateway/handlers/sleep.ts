import type { Disconnect, Pingreq } from '../../codec/index.js';
import type { MqttSnChannel } from '../channel.js';

/**
 * PINGREQ (MQTT-SN 1.2 §6.11, §6.14): from an active client, PINGRESP. From a sleeping client
 * with its ClientId, the client is awake: the gateway sends what it held, and PINGRESP once all
 * of it is acknowledged, after which the client is asleep again. Any traffic resets keepalive.
 */
export function handlePingreq(ch: MqttSnChannel, m: Pingreq): void {
  const own = m.clientId !== undefined && (m.clientId === ch.clientId || m.clientId === ch.connectMsg?.clientId);
  if (ch.state === 'asleep' || ch.state === 'awake') {
    if (own) return ch.wake();
    return ch.send({ type: 'pingresp' });
  }
  if (m.clientId !== undefined && !own) {
    ch.log.debug({ clientId: ch.clientId, requested: m.clientId }, 'pingreq_client_id_mismatch');
    return ch.host.count('packets.dropped');
  }
  ch.send({ type: 'pingresp' });
}

/**
 * DISCONNECT (§6.12): without a Duration (or with 0) the client leaves normally, without its
 * will; with a Duration it goes to sleep for that many seconds (§6.14). Both are acknowledged
 * with DISCONNECT.
 */
export function handleDisconnect(ch: MqttSnChannel, m: Disconnect): void {
  if (!ch.connected || !m.duration) return ch.end('normal', { notify: true });
  ch.send({ type: 'disconnect' });
  ch.sleep(m.duration);
}
