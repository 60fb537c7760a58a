import { JunctionError, validateTopicName, type ConnectInfo, type SessionHandle } from '@junction/broker-core';
import { PROTOCOL_ID, RETURN_CODE, type Connect, type WillMsg, type WillTopicMsg } from '../../codec/index.js';
import type { MqttSnChannel } from '../channel.js';
import type { WillData } from '../context.js';
import { returnCodeFor } from '../return-codes.js';

/**
 * CONNECT (MQTT-SN 1.2 §6.2): with the Will flag, the gateway asks for the will topic and
 * message first (WILLTOPICREQ, WILLTOPIC, WILLMSGREQ, WILLMSG), each prompt supervised by
 * Tretry/Nretry; then the core authenticates and opens the session, and CONNACK answers.
 */
export function handleConnect(ch: MqttSnChannel, m: Connect): void | Promise<void> {
  switch (ch.state) {
    case 'will_topic':
    case 'will_msg':
      // The client did not get our prompt and sent CONNECT again: prompt again.
      return ch.retransmit.resendNow('w');
    case 'active':
      // CONNACK lost: the same CONNECT again, soon after it, is a retransmission.
      if (sameConnect(ch, m) && ch.host.clock.now() - ch.connackAt < ch.host.options.retryIntervalMs) return ch.connack(RETURN_CODE.ACCEPTED);
      return ch.host.reconnect(ch, m);
    case 'asleep':
    case 'awake':
      // §6.14: a sleeping client returns to the active state with CONNECT.
      if (m.clientId === ch.connectMsg?.clientId && !m.cleanSession && !m.will) return ch.reactivate(m.duration);
      return ch.host.reconnect(ch, m);
    case 'new':
      break;
    default:
      return;
  }
  if (m.protocolId !== PROTOCOL_ID) {
    ch.connack(RETURN_CODE.NOT_SUPPORTED);
    return ch.end('normal', { reason: 'unsupported_protocol_id' });
  }
  ch.connectMsg = m;
  ch.cleanSession = m.cleanSession;
  ch.keepalive = m.duration;
  if (m.will) {
    ch.state = 'will_topic';
    ch.retransmit.track('w', { type: 'willtopicreq' });
    return;
  }
  return open(ch, m, undefined);
}

function sameConnect(ch: MqttSnChannel, m: Connect): boolean {
  const c = ch.connectMsg;
  return c !== undefined && c.clientId === m.clientId && c.cleanSession === m.cleanSession && c.will === m.will && c.duration === m.duration;
}

/** WILLTOPIC (§5.4.7): empty deletes the will (§6.3); else WILLMSGREQ follows. */
export function handleWillTopic(ch: MqttSnChannel, m: WillTopicMsg): void | Promise<void> {
  if (ch.state === 'will_msg') return ch.retransmit.resendNow('w');
  if (ch.state !== 'will_topic') return ch.host.count('packets.dropped');
  ch.retransmit.settle('w');
  if (!m.will) return open(ch, ch.connectMsg!, null);
  try {
    validateTopicName(m.will.topic);
  } catch {
    ch.connack(RETURN_CODE.NOT_SUPPORTED);
    return ch.end('normal', { reason: 'invalid_will_topic' });
  }
  ch.pendingWill = { topic: m.will.topic, qos: m.will.qos, retain: m.will.retain, payload: Buffer.alloc(0) };
  ch.state = 'will_msg';
  ch.retransmit.track('w', { type: 'willmsgreq' });
}

/** WILLMSG (§5.4.9): the dialogue is complete. Repeated after CONNACK was lost: CONNACK again. */
export function handleWillMsg(ch: MqttSnChannel, m: WillMsg): void | Promise<void> {
  if (ch.state === 'active' && ch.connectMsg?.will) return ch.connack(RETURN_CODE.ACCEPTED);
  if (ch.state !== 'will_msg') return ch.host.count('packets.dropped');
  ch.retransmit.settle('w');
  const will = { ...ch.pendingWill!, payload: m.payload };
  ch.pendingWill = undefined;
  return open(ch, ch.connectMsg!, will);
}

/**
 * Authenticate and open the session through the core (protocol `mqtt-sn`, the client id as the
 * identity), then CONNACK. `will`: the will from the dialogue, null to delete the stored one,
 * undefined to keep it (CleanSession 0 without the Will flag, §6.3).
 */
async function open(ch: MqttSnChannel, m: Connect, will: WillData | null | undefined): Promise<void> {
  ch.state = 'opening';
  const host = ch.host;
  const o = host.options;
  const ov = o.clientinfoOverride;
  const fill = (t: string) => t.replaceAll('${clientid}', m.clientId);
  const clientId = ov.clientid ? fill(ov.clientid) : m.clientId;
  ch.username = ov.username ? fill(ov.username) : undefined;
  const info: ConnectInfo = {
    clientId,
    username: ch.username,
    password: ov.password ? Buffer.from(fill(ov.password)) : undefined,
    protocol: 'mqtt-sn',
    protocolVersion: m.protocolId,
    peer: ch.peer.address,
    listener: o.listener,
    cleanStart: m.cleanSession,
    // CleanSession 0 takes the broker's session_expiry_interval, as MQTT 3.1.1 clients do.
    sessionExpiryInterval: m.cleanSession ? 0 : undefined,
    keepalive: m.duration,
    authenticated: o.enableAuthn ? undefined : {},
  };
  host.opening.set(clientId, ch);
  let handle: SessionHandle;
  try {
    handle = await host.broker.open(info, ch);
  } catch (err) {
    if (host.opening.get(clientId) === ch) host.opening.delete(clientId);
    if (!(err instanceof JunctionError)) ch.log.error({ err, clientId }, 'session_open_failed');
    const code = err instanceof JunctionError ? returnCodeFor(err.code) : RETURN_CODE.CONGESTION;
    ch.log.info({ clientId, peer: ch.peer.key, code, reason: (err as Error).message }, 'client_connack_refused');
    ch.connack(code);
    return ch.end('normal', { reason: 'connack_refused' });
  }
  if (host.opening.get(clientId) === ch) host.opening.delete(clientId);
  if (ch.state !== 'opening') {
    // The client went away (or the gateway stopped) while the session opened.
    handle.close('normal');
    return;
  }
  ch.attach(handle);
  // §6.3: with CleanSession 0, topic ids, subscriptions and the will outlive the connection.
  if (m.cleanSession) {
    host.memory.delete(ch.clientId);
  } else {
    const kept = handle.sessionPresent ? host.memory.get(ch.clientId) : undefined;
    if (kept) ch.memory = kept;
    host.memory.set(ch.clientId, ch.memory);
  }
  if (will === null) ch.memory.will = undefined;
  else if (will) ch.memory.will = will;
  ch.connack(RETURN_CODE.ACCEPTED);
  ch.log.debug({ clientId: ch.clientId, sessionPresent: handle.sessionPresent }, 'client_connected');
  if (handle.sessionPresent && o.subsResume) {
    const again: { topicId: number; topic: string }[] = [];
    for (const topic of ch.memory.subscriptions.keys()) {
      const topicId = ch.registry.id(topic);
      if (topicId !== undefined) again.push({ topicId, topic });
    }
    ch.out.registerAgain(again);
  }
  // The core holds deliveries until ready(): after CONNACK (and any REGISTER of subs_resume).
  ch.out.start();
}
