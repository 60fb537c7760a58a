import type { MessageOf, MessageType, MqttSnMessage } from '../../codec/index.js';
import type { MqttSnChannel } from '../channel.js';
import { handleConnect, handleWillMsg, handleWillTopic } from './connect.js';
import { handlePuback, handlePubcomp, handlePublish, handlePubrec, handlePubrel } from './publish.js';
import { handleRegack, handleRegister } from './register.js';
import { handleDisconnect, handlePingreq } from './sleep.js';
import { handleSubscribe, handleUnsubscribe } from './subscribe.js';
import { handleWillMsgUpd, handleWillTopicUpd } from './will-update.js';

export type Handler<K extends MessageType> = (ch: MqttSnChannel, m: MessageOf<K>) => void | Promise<void>;

/** Messages only a gateway sends, or gateway discovery a connected client has no use for. */
const ignore = (ch: MqttSnChannel, m: MqttSnMessage): void => {
  ch.log.debug({ type: m.type }, 'unexpected_packet_from_client');
  ch.host.count('packets.dropped');
};

/**
 * One handler per message type a connected (or connecting) client may send; the table is typed
 * over every type, so a new one cannot be forgotten. SEARCHGW and QoS -1 PUBLISH without a
 * connection are the gateway's (`gateway.ts`); forwarder encapsulation is unwrapped there.
 */
export const HANDLERS: { readonly [K in MessageType]: Handler<K> } = {
  advertise: ignore,
  searchgw: ignore,
  gwinfo: ignore,
  connect: handleConnect,
  connack: ignore,
  willtopicreq: ignore,
  willtopic: handleWillTopic,
  willmsgreq: ignore,
  willmsg: handleWillMsg,
  register: handleRegister,
  regack: handleRegack,
  publish: handlePublish,
  puback: handlePuback,
  pubrec: handlePubrec,
  pubrel: handlePubrel,
  pubcomp: handlePubcomp,
  subscribe: handleSubscribe,
  suback: ignore,
  unsubscribe: handleUnsubscribe,
  unsuback: ignore,
  pingreq: handlePingreq,
  pingresp: ignore,
  disconnect: handleDisconnect,
  willtopicupd: handleWillTopicUpd,
  willtopicresp: ignore,
  willmsgupd: handleWillMsgUpd,
  willmsgresp: ignore,
  encapsulated: ignore,
};
