import { JunctionError, TopicNameInvalidError, validateTopicName, type ConnectInfo, type SessionHandle, type Will } from '@junction/broker-core';
import type { IConnackPacket, IConnectPacket, Packet } from 'mqtt-packet';
import { RC, reasonCodeFor, V3_CONNACK, v3ConnackCodeFor } from '../../reason-codes.js';
import type { MqttConnection } from '../connection.js';
import { InboundAliases, OutboundAliases } from '../topic-alias.js';
import { hadInvalidUtf8 } from '../validate-packet.js';
import { exchange } from './auth.js';
import { applyPeerCertIdentity } from '../peer-cert.js';

/**
 * CONNECT (MQTT 5.0 §3.1, 3.1.1 §3.1): validate, authenticate and open the session through the
 * core, answer CONNACK, then let the core start deliveries. Synchronous unless something on the
 * way is not (an enhanced authentication exchange, an asynchronous hook, a cluster claim): then
 * the connection waits for the returned promise before it handles the next packet.
 */
export function handleConnect(c: MqttConnection, p: IConnectPacket): void | Promise<void> {
  if (c.connecting) {
    // [MQTT-3.1.0-2] a second CONNECT is a protocol error.
    return c.protocolError('second CONNECT');
  }
  c.connecting = true;
  c.clearIdleTimer();
  const version = (p.protocolVersion ?? 4) as 3 | 4 | 5;
  c.version = version;
  const props = p.properties ?? NO_PROPERTIES;
  const opts = c.ctx.options;
  applyPeerCertIdentity(p, c.transport.peerCert, opts);

  c.problemInfo = props.requestProblemInformation !== false;

  // [MQTT-3.1.2-2] the protocol name and level go together: MQIsdp/3, MQTT/4, MQTT/5.
  if ((p.protocolId === 'MQIsdp') !== (version === 3)) {
    return refuse(c, p, RC.UNSUPPORTED_PROTOCOL_VERSION, V3_CONNACK.UNACCEPTABLE_PROTOCOL_VERSION, 'protocol name and level do not match');
  }
  // [MQTT-3.1.2-22] MQTT 3.1.1: a password needs a user name (MQTT 5 allows it alone).
  if (version !== 5 && p.password !== undefined && p.username === undefined) return c.destroy('password_without_username');
  if (p.will && (p.will.qos ?? 0) > 2) return refuse(c, p, RC.MALFORMED_PACKET, V3_CONNACK.NOT_AUTHORIZED, 'will QoS 3'); // [MQTT-3.1.2-12]
  if (p.will && hadInvalidUtf8(p.will.topic)) return refuse(c, p, RC.MALFORMED_PACKET, V3_CONNACK.NOT_AUTHORIZED, 'ill-formed UTF-8 in will topic');

  // Client identifier rules [MQTT-3.1.3-7/8], and 3.1's 23-character limit.
  const clientId = p.clientId ?? '';
  if (clientId === '' && (version === 3 || (version === 4 && !p.clean))) {
    return refuse(c, p, RC.CLIENT_ID_NOT_VALID, V3_CONNACK.IDENTIFIER_REJECTED, 'empty client identifier');
  }
  if (clientId.length > opts.max_clientid_len) {
    return refuse(c, p, RC.CLIENT_ID_NOT_VALID, V3_CONNACK.IDENTIFIER_REJECTED, 'client identifier too long');
  }
  // §3.1.2.11.3 and §3.1.2.11.4: 0 is a protocol error.
  if (version === 5 && props.receiveMaximum === 0) return refuse(c, p, RC.PROTOCOL_ERROR, 0, 'receive maximum of 0');
  if (version === 5 && props.maximumPacketSize === 0) return refuse(c, p, RC.PROTOCOL_ERROR, 0, 'maximum packet size of 0');

  let will: Will | undefined;
  if (p.will) {
    try {
      validateTopicName(p.will.topic);
    } catch (err) {
      if (err instanceof TopicNameInvalidError) return refuse(c, p, RC.TOPIC_NAME_INVALID, V3_CONNACK.NOT_AUTHORIZED, err.message);
      throw err;
    }
    if (p.will.retain && !c.ctx.broker.features.retainAvailable) return refuse(c, p, RC.RETAIN_NOT_SUPPORTED, V3_CONNACK.NOT_AUTHORIZED, 'retain not supported');
    if ((p.will.qos ?? 0) > opts.max_qos_allowed) return refuse(c, p, RC.QOS_NOT_SUPPORTED, V3_CONNACK.NOT_AUTHORIZED, 'will QoS not supported');
    const wp = p.will.properties;
    will = {
      topic: c.ctx.topics.mount(p.will.topic, { clientId, username: p.username }),
      payload: Buffer.isBuffer(p.will.payload) ? p.will.payload : Buffer.from(p.will.payload ?? ''),
      qos: p.will.qos ?? 0,
      retain: p.will.retain ?? false,
      delayInterval: wp?.willDelayInterval,
      properties: wp
        ? {
            payloadFormatIndicator: wp.payloadFormatIndicator,
            messageExpiryInterval: wp.messageExpiryInterval,
            contentType: wp.contentType,
            responseTopic: wp.responseTopic,
            correlationData: wp.correlationData,
            userProperties: wp.userProperties,
          }
        : undefined,
    };
  }

  const keepalive = version === 5 && opts.server_keepalive > 0 ? opts.server_keepalive : (p.keepalive ?? 0);
  const info: ConnectInfo = {
    clientId,
    username: p.username,
    password: p.password,
    protocol: 'mqtt',
    protocolVersion: version,
    peer: c.transport.peer,
    listener: c.ctx.listener,
    cleanStart: p.clean !== false,
    // MQTT 3.x: clean session 0 takes the broker's default expiry.
    sessionExpiryInterval: version === 5 ? (props.sessionExpiryInterval ?? 0) : p.clean !== false ? 0 : undefined,
    keepalive,
    will,
    receiveMaximum: version === 5 ? props.receiveMaximum : undefined,
    peerCert: c.transport.peerCert,
    authMethod: version === 5 ? props.authenticationMethod : undefined,
    authData: version === 5 ? props.authenticationData : undefined,
  };
  c.connectExpiry = info.sessionExpiryInterval ?? 0;

  // Enhanced authentication (§4.12): the exchange runs before the session opens.
  if (info.authMethod !== undefined) return authenticateThenOpen(c, p, info, info.authMethod);
  return openSession(c, p, info, undefined);
}

async function authenticateThenOpen(c: MqttConnection, p: IConnectPacket, info: ConnectInfo, method: string): Promise<void> {
  const outcome = await exchange(c, method, info);
  if (c.closed) return;
  if (!outcome.ok) return refuse(c, p, outcome.code, V3_CONNACK.NOT_AUTHORIZED, outcome.reason);
  info.authenticated = { isSuperuser: outcome.step.isSuperuser, attrs: outcome.step.attrs };
  c.authMethod = method;
  return openSession(c, p, info, outcome.step.authData);
}

/** Open the session through the core (synchronously when the core can), then CONNACK. */
function openSession(c: MqttConnection, p: IConnectPacket, info: ConnectInfo, finalAuthData: Buffer | undefined): void | Promise<void> {
  const broker = c.ctx.broker;
  let opened: SessionHandle | Promise<SessionHandle>;
  try {
    opened = broker.openNow !== undefined ? broker.openNow(info, c) : broker.open(info, c);
  } catch (err) {
    return openFailed(c, p, err);
  }
  if (opened instanceof Promise) {
    return opened.then(
      (handle) => connected(c, p, info, handle, finalAuthData),
      (err: unknown) => openFailed(c, p, err),
    );
  }
  connected(c, p, info, opened, finalAuthData);
}

/** The core refused the client: CONNACK with the refusal; anything else is the handler's failure. */
function openFailed(c: MqttConnection, p: IConnectPacket, err: unknown): void {
  if (err instanceof JunctionError) return refuse(c, p, reasonCodeFor(err.code), v3ConnackCodeFor(err.code), err.message);
  throw err;
}

function connected(c: MqttConnection, p: IConnectPacket, info: ConnectInfo, handle: SessionHandle, finalAuthData: Buffer | undefined): void {
  if (c.closed) {
    handle.close('connection_lost');
    return;
  }
  const version = c.version;
  c.handle = handle;
  c.clientId = handle.clientId;
  c.username = p.username;

  if (version === 5) {
    const props = p.properties ?? NO_PROPERTIES;
    const opts = c.ctx.options;
    const features = c.ctx.broker.features;
    const ack: IConnackPacket = { cmd: 'connack', sessionPresent: handle.sessionPresent };
    c.maxOutgoingPacket = props.maximumPacketSize ?? 0;
    if (opts.max_topic_alias > 0) c.inAliases = new InboundAliases(opts.max_topic_alias);
    if (props.topicAliasMaximum) c.outAliases = new OutboundAliases(props.topicAliasMaximum);
    ack.reasonCode = RC.SUCCESS;
    const ap: NonNullable<IConnackPacket['properties']> = {
      // Inbound QoS 1 is acknowledged at once; QoS 2 is bounded by max_awaiting_rel.
      receiveMaximum: features.maxAwaitingRel,
      maximumPacketSize: opts.max_packet_size,
      topicAliasMaximum: opts.max_topic_alias,
      retainAvailable: features.retainAvailable,
      wildcardSubscriptionAvailable: features.wildcardSubscriptions,
      subscriptionIdentifiersAvailable: true,
      sharedSubscriptionAvailable: features.sharedSubscriptions,
    };
    if (opts.max_qos_allowed < 2) ap.maximumQoS = opts.max_qos_allowed;
    if (handle.assignedClientId) ap.assignedClientIdentifier = handle.assignedClientId;
    if (info.keepalive !== (p.keepalive ?? 0)) ap.serverKeepAlive = info.keepalive;
    if (props.requestResponseInformation && opts.response_information) ap.responseInformation = opts.response_information;
    if (c.authMethod !== undefined) {
      ap.authenticationMethod = c.authMethod;
      if (finalAuthData) ap.authenticationData = finalAuthData;
    }
    ack.properties = ap;
    // A new session has nothing queued to follow the CONNACK: written at once, not corked.
    c.send(ack as Packet, 5, !handle.sessionPresent);
  } else {
    // MQTT 3.x: the accepting CONNACK is one of two constant packets.
    if (handle.sessionPresent) c.write(CONNACK_ACCEPTED_PRESENT);
    else c.write(CONNACK_ACCEPTED, true);
  }
  c.connackSent = true;
  c.log.debug({ clientId: c.clientId, peer: c.transport.peer, version, sessionPresent: handle.sessionPresent }, 'client_connected');
  // Resend inflight and queued messages now that CONNACK is on the wire.
  handle.ready();
}

/** Refuse the CONNECT: CONNACK with the MQTT 5 reason code or the 3.x return code, and close. */
function refuse(c: MqttConnection, p: IConnectPacket, v5: number, v3: number, reason?: string): void {
  const version = c.version;
  const ack: IConnackPacket = version === 5
    ? { cmd: 'connack', sessionPresent: false, reasonCode: v5, properties: reason && c.problemInfo ? { reasonString: reason } : undefined }
    : { cmd: 'connack', sessionPresent: false, returnCode: v3 };
  c.ctx.metrics.counters['client.connack.failure']++;
  c.send(ack as Packet);
  c.log.info({ clientId: p.clientId, peer: c.transport.peer, code: version === 5 ? v5 : v3, reason }, 'client_connack_refused');
  c.destroy('connack_refused');
}

const NO_PROPERTIES: NonNullable<IConnectPacket['properties']> = Object.freeze({});

/** CONNACK accepted (MQTT 3.1 and 3.1.1; return code 0), without and with Session Present. */
const CONNACK_ACCEPTED = Buffer.from([0x20, 0x02, 0x00, V3_CONNACK.ACCEPTED]);
const CONNACK_ACCEPTED_PRESENT = Buffer.from([0x20, 0x02, 0x01, V3_CONNACK.ACCEPTED]);
