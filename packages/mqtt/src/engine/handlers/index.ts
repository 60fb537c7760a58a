import type { Packet } from 'mqtt-packet';
import type { MqttConnection } from '../connection.js';
import { handleConnect } from './connect.js';
import { handlePuback, handlePubcomp, handlePublish, handlePubrec, handlePubrel } from './publish.js';
import { handleAuth } from './auth.js';
import { handleDisconnect, handlePingreq } from './session.js';
import { handleSubscribe, handleUnsubscribe } from './subscribe.js';

type Handler<K extends Packet['cmd']> = (c: MqttConnection, p: Extract<Packet, { cmd: K }>) => void | Promise<void>;

/** Packets a client may send, one handler each; server-only packets are absent (protocol error). */
export const handlers: { [K in Packet['cmd']]?: Handler<K> } = {
  connect: handleConnect,
  publish: handlePublish,
  puback: handlePuback,
  pubrec: handlePubrec,
  pubrel: handlePubrel,
  pubcomp: handlePubcomp,
  subscribe: handleSubscribe,
  unsubscribe: handleUnsubscribe,
  pingreq: handlePingreq,
  disconnect: handleDisconnect,
  auth: handleAuth,
};
