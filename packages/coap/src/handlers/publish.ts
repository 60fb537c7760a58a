/**
 * `POST` or `PUT /ps/{topic}`: publish the payload (EMQX: query `qos`, `retain`, `expiry`;
 * answered 2.04 Changed once the bus accepted the message, which is when QoS 1 and 2 are met).
 * The Content-Format becomes the MQTT 5 content type.
 */
import type { MessageProperties, PublishRequest } from '@junction/broker-core';
import { replyForError } from '../errors.js';
import { Rsp } from '../message/codes.js';
import { contentTypeFor } from '../message/content-format.js';
import { reply, type CoapRequest, type Reply } from '../server/request.js';
import { clientOf } from './client-of.js';
import type { Gateway } from './gateway.js';
import { mappedQos, queryQos } from './qos.js';

export async function publish(req: CoapRequest, topic: string, gw: Gateway): Promise<Reply> {
  const qos = queryQos(req.query.get('qos'));
  if (qos === null) return reply(Rsp.BAD_REQUEST, 'invalid qos');
  const expiryText = req.query.get('expiry');
  if (expiryText !== undefined && !/^\d{1,10}$/.test(expiryText)) return reply(Rsp.BAD_REQUEST, 'invalid expiry');
  const expiry = expiryText === undefined ? 0 : Math.min(Number(expiryText), 0xffffffff);

  const { client, reply: refused } = await clientOf(req, gw, true);
  if (refused) return refused;

  const properties: MessageProperties = {};
  if (req.contentFormat !== undefined) properties.contentType = contentTypeFor(req.contentFormat);
  if (expiry > 0) properties.messageExpiryInterval = expiry;
  const message: PublishRequest = {
    topic: gw.topics.mount(topic, { clientId: client!.clientId, username: client!.username }),
    payload: req.payload,
    qos: qos ?? mappedQos(gw.config.publish_qos, req.confirmable),
    // EMQX: only `true` means retain.
    retain: req.query.get('retain') === 'true',
    properties: Object.keys(properties).length > 0 ? properties : undefined,
  };
  try {
    await client!.handle.publish(message);
  } catch (err) {
    return replyForError(err);
  }
  return { code: Rsp.CHANGED };
}
