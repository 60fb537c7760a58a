/**
 * The columns of each event, built from what the broker core's hooks pass, in EMQX's shape
 * (emqx_rule_events): field names, `pub_props` with MQTT 5 property names, `peerhost` without the
 * port, `peername` with it, message ids as 32 hex digits, times in milliseconds.
 */
import { randomBytes } from 'node:crypto';
import type { AuthnOutcome, AuthzRequest, ClientInfo, CloseReason, ConnectInfo, Delivery, DropReason, Message, MessageProperties, Subscription } from '@junction/broker-core';
import { fromBytes, type Value, type ValueMap } from '../runtime/values.js';
import type { EventName } from './catalog.js';

/** What the rule engine remembers of a connection, for the events that only get a ClientInfo. */
export interface ConnSnapshot {
  readonly client: ClientInfo;
  readonly info?: ConnectInfo;
}

/** The host part of a peer address, as the core writes them: `host:port`, `v6:port` or `[v6]:port`. */
export function hostOf(peer: string | undefined): string | undefined {
  if (peer === undefined) return undefined;
  if (peer.startsWith('[')) return peer.slice(1, peer.indexOf(']'));
  const i = peer.lastIndexOf(':');
  return i > 0 ? peer.slice(0, i) : peer;
}

const PROTO_NAMES: Record<string, string> = { mqtt: 'MQTT', 'mqtt-sn': 'MQTT-SN', mqttsn: 'MQTT-SN', coap: 'CoAP', ocpp: 'OCPP', lwm2m: 'LwM2M', stomp: 'STOMP', exproto: 'ExProto' };

export function protoName(protocol: string): string {
  return PROTO_NAMES[protocol.toLowerCase()] ?? protocol.toUpperCase();
}

/** Junction's close reasons in EMQX's words. */
const REASONS: Record<CloseReason, string> = {
  normal: 'normal',
  normal_with_will: 'normal',
  takeover: 'takenover',
  kicked: 'kicked',
  banned: 'banned',
  keepalive_timeout: 'keepalive_timeout',
  protocol_error: 'protocol_error',
  server_shutdown: 'shutdown',
  connection_lost: 'sock_closed',
  backpressure_timeout: 'send_timeout',
  not_authorized: 'not_authorized',
};

export function disconnectReason(r: CloseReason): string {
  return REASONS[r] ?? r;
}

/** MQTT 5 properties under EMQX's names. */
export function pubProps(p: MessageProperties | undefined): ValueMap {
  const out: ValueMap = {};
  if (!p) return out;
  if (p.payloadFormatIndicator !== undefined) out['Payload-Format-Indicator'] = p.payloadFormatIndicator ? 1 : 0;
  if (p.messageExpiryInterval !== undefined) out['Message-Expiry-Interval'] = p.messageExpiryInterval;
  if (p.contentType !== undefined) out['Content-Type'] = p.contentType;
  if (p.responseTopic !== undefined) out['Response-Topic'] = p.responseTopic;
  if (p.correlationData !== undefined) out['Correlation-Data'] = fromBytes(p.correlationData);
  if (p.userProperties) {
    const map: ValueMap = {};
    const pairs: Value[] = [];
    for (const [k, v] of Object.entries(p.userProperties)) {
      for (const x of Array.isArray(v) ? v : [v]) {
        map[k] = x;
        pairs.push({ key: k, value: x });
      }
    }
    out['User-Property'] = map;
    out['User-Property-Pairs'] = pairs;
  }
  return out;
}

let seq = 0;
const node = randomBytes(4).toString('hex');

/** Builds event columns; one per rule engine. */
export class EventColumns {
  private readonly ids = new WeakMap<Message, string>();

  constructor(
    private readonly nodeName: string,
    private readonly now: () => number,
  ) {}

  /** The message's id: 32 upper-case hex digits (time, node, sequence), stable per message. */
  messageId(msg: Message): string {
    let id = this.ids.get(msg);
    if (!id) {
      seq = (seq + 1) >>> 0;
      id = (BigInt(msg.timestamp) * 1000n).toString(16).padStart(16, '0') + node + seq.toString(16).padStart(8, '0');
      id = id.toUpperCase();
      this.ids.set(msg, id);
    }
    return id;
  }

  private base(event: EventName, fields: ValueMap): ValueMap {
    return { ...fields, event, timestamp: this.now(), node: this.nodeName };
  }

  private message(msg: Message): ValueMap {
    const props = pubProps(msg.properties);
    return {
      id: this.messageId(msg),
      payload: fromBytes(msg.payload),
      topic: msg.topic,
      qos: msg.qos,
      flags: { retain: msg.retain, dup: false },
      pub_props: props,
      headers: { peerhost: hostOf(msg.from.peer), protocol: msg.from.protocol, username: msg.from.username, properties: props },
      publish_received_at: msg.timestamp,
    };
  }

  publish(msg: Message): ValueMap {
    return this.base('message.publish', { ...this.message(msg), clientid: msg.from.clientId, username: msg.from.username, peerhost: hostOf(msg.from.peer) });
  }

  connected(client: ClientInfo, info: ConnectInfo): ValueMap {
    const now = this.now();
    return this.base('client.connected', {
      clientid: client.clientId,
      username: client.username,
      mountpoint: undefined,
      peername: client.peer,
      sockname: undefined,
      proto_name: protoName(client.protocol),
      proto_ver: info.protocolVersion,
      keepalive: info.keepalive,
      clean_start: info.cleanStart,
      receive_maximum: info.receiveMaximum,
      expiry_interval: info.sessionExpiryInterval ?? 0,
      is_bridge: false,
      conn_props: {},
      client_attrs: (client.attrs ?? {}) as ValueMap,
      connected_at: now,
    });
  }

  disconnected(client: ClientInfo, reason: CloseReason, snap: ConnSnapshot | undefined): ValueMap {
    return this.base('client.disconnected', {
      reason: disconnectReason(reason),
      clientid: client.clientId,
      username: client.username,
      peername: client.peer,
      sockname: undefined,
      proto_name: protoName(client.protocol),
      proto_ver: snap?.info?.protocolVersion,
      disconn_props: {},
      client_attrs: (client.attrs ?? {}) as ValueMap,
      disconnected_at: this.now(),
    });
  }

  connack(info: ConnectInfo, result: string): ValueMap {
    return this.base('client.connack', {
      reason_code: result,
      clientid: info.clientId,
      username: info.username,
      peername: info.peer,
      sockname: undefined,
      proto_name: protoName(info.protocol),
      proto_ver: info.protocolVersion,
      keepalive: info.keepalive,
      clean_start: info.cleanStart,
      expiry_interval: info.sessionExpiryInterval ?? 0,
      conn_props: {},
    });
  }

  authnComplete(info: ConnectInfo, outcome: AuthnOutcome): ValueMap {
    return this.base('client.check_authn_complete', {
      clientid: info.clientId,
      username: info.username,
      peername: info.peer,
      reason_code: outcome.reason,
      is_superuser: outcome.isSuperuser,
      is_anonymous: outcome.isAnonymous,
    });
  }

  authzComplete(req: AuthzRequest, result: 'allow' | 'deny', source: string): ValueMap {
    const c = req.client;
    return this.base('client.check_authz_complete', {
      clientid: c.clientId,
      username: c.username,
      peerhost: hostOf(c.peer),
      topic: req.topic,
      action: req.action,
      authz_source: source,
      result,
    });
  }

  subscribed(client: ClientInfo, sub: Subscription): ValueMap {
    const props: ValueMap = sub.subscriptionId ? { 'Subscription-Identifier': sub.subscriptionId } : {};
    return this.base('session.subscribed', { clientid: client.clientId, username: client.username, peerhost: hostOf(client.peer), topic: sub.filter, qos: sub.qos, sub_props: props });
  }

  unsubscribed(client: ClientInfo, filter: string, qos: number | undefined): ValueMap {
    return this.base('session.unsubscribed', { clientid: client.clientId, username: client.username, peerhost: hostOf(client.peer), topic: filter, qos, unsub_props: {} });
  }

  private toReceiver(msg: Message, receiver: { clientId: string; username?: string; peer?: string }): ValueMap {
    return {
      ...this.message(msg),
      from_clientid: msg.from.clientId,
      from_username: msg.from.username,
      clientid: receiver.clientId,
      username: receiver.username,
      peerhost: hostOf(receiver.peer),
    };
  }

  delivered(client: ClientInfo, d: Delivery): ValueMap {
    return this.base('message.delivered', { ...this.toReceiver(d.message, client), qos: d.qos, flags: { retain: d.retain, dup: d.dup } });
  }

  acked(client: ClientInfo, msg: Message): ValueMap {
    return this.base('message.acked', { ...this.toReceiver(msg, client), puback_props: {} });
  }

  dropped(msg: Message, reason: DropReason): ValueMap {
    return this.base('message.dropped', { ...this.message(msg), reason, clientid: msg.from.clientId, username: msg.from.username, peerhost: hostOf(msg.from.peer) });
  }

  deliveryDropped(msg: Message, reason: DropReason, receiver: { clientId: string; username?: string; peer?: string }): ValueMap {
    const why = reason === 'queue_full' && msg.qos === 0 ? 'qos0_msg' : reason;
    return this.base('delivery.dropped', { ...this.toReceiver(msg, receiver), reason: why });
  }
}
