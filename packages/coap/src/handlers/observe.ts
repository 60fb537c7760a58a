/**
 * `GET /ps/{topic}` (RFC 7641, EMQX's subscribe and unsubscribe):
 * - Observe 0 registers an observation, i.e. subscribes the client to the topic: 2.05 with an
 *   Observe value; every later message is a notification carrying the request's token.
 * - Observe 1 deregisters it and unsubscribes: 2.07 (EMQX's code).
 * - A Block2 option with a block number above 0 asks for a later block of the last large
 *   notification (RFC 7959 §2.4, §3.4).
 */
import type { QoS } from '@junction/broker-core';
import { replyForError } from '../errors.js';
import { Rsp } from '../message/codes.js';
import { reply, type CoapRequest, type Reply } from '../server/request.js';
import { clientOf } from './client-of.js';
import type { Gateway } from './gateway.js';
import { mappedQos, queryQos } from './qos.js';

export async function get(req: CoapRequest, topic: string, gw: Gateway): Promise<Reply> {
  if (req.block2 && req.block2.num > 0) return laterBlock(req, topic, gw);
  if (req.observe === 0) return subscribe(req, topic, gw);
  if (req.observe === 1) return unsubscribe(req, topic, gw);
  return reply(Rsp.BAD_REQUEST, 'invalid observe value');
}

async function subscribe(req: CoapRequest, topic: string, gw: Gateway): Promise<Reply> {
  // RFC 7641 §3.1: the token identifies the observation; EMQX refuses an empty one.
  if (req.token.length === 0) return reply(Rsp.BAD_REQUEST, 'observe without token');
  const qosParam = queryQos(req.query.get('qos'));
  if (qosParam === null) return reply(Rsp.BAD_REQUEST, 'invalid qos');
  const nl = flag(req.query.get('nl'));
  const rh = req.query.get('rh');
  if (nl === null || (rh !== undefined && !/^[012]$/.test(rh))) return reply(Rsp.BAD_REQUEST, 'invalid subscription option');

  const { client, reply: refused } = await clientOf(req, gw, true);
  if (refused) return refused;
  const c = client!;
  const registry = gw.registry;
  const blockSize = Math.min(req.block2?.size ?? Infinity, gw.config.blockwise.max_block_size);
  let obs = c.observations.get(topic);
  if (obs) {
    // RFC 7641 §4.1: a registration for an observed resource replaces the existing entry.
    obs.token = req.token;
    obs.blockSize = blockSize;
  } else if (!registry.observationAllowed(c)) {
    // RFC 7641 §4.1: unwilling to add an observer, the server answers the GET without Observe.
    gw.log.debug({ clientId: c.clientId, topic }, 'coap_observation_refused');
    return { code: Rsp.CONTENT };
  } else {
    const filter = gw.topics.mount(topic, { clientId: c.clientId, username: c.username });
    // Registered before subscribing, so the retained messages that follow find it.
    obs = c.observations.add(topic, filter, req.token, blockSize, registry.now());
    registry.observationAdded();
  }
  const qos: QoS = qosParam ?? mappedQos(gw.config.subscribe_qos, req.confirmable);
  let failure: Reply | undefined;
  try {
    const [result] = await c.handle.subscribe([
      // EMQX subscribes with retain handling 1: retained messages only for a new subscription.
      { filter: obs.filter, qos, subscriptionId: obs.id, noLocal: nl ?? false, retainHandling: rh === undefined ? 1 : (Number(rh) as 0 | 1 | 2) },
    ]);
    if (result && !result.ok) failure = replyForError(result.error);
  } catch (err) {
    failure = replyForError(err);
  }
  if (failure) {
    c.cancel(obs, 'subscribe_refused');
    return failure;
  }
  return { code: Rsp.CONTENT, observe: obs.seq };
}

async function unsubscribe(req: CoapRequest, topic: string, gw: Gateway): Promise<Reply> {
  const { client, reply: refused } = await clientOf(req, gw, false);
  if (refused) return refused;
  const obs = client?.observations.get(topic);
  if (client && obs) client.cancel(obs, 'deregistered');
  return { code: Rsp.NO_CONTENT };
}

/** RFC 7959 §2.4: one block of the representation the first block of a notification announced. */
async function laterBlock(req: CoapRequest, topic: string, gw: Gateway): Promise<Reply> {
  const { client, reply: refused } = await clientOf(req, gw, false);
  if (refused) return refused;
  const large = client?.observations.get(topic)?.large;
  if (!client || !large) return reply(Rsp.BAD_REQUEST, 'no notification to continue');
  const block = req.block2!;
  if (block.num * block.size >= large.payload.length) return reply(Rsp.BAD_OPTION, 'block out of range');
  if ((block.num + 1) * block.size >= large.payload.length) client.blockwiseDone();
  return {
    code: Rsp.CONTENT,
    payload: large.payload,
    representation: true,
    contentFormat: large.contentFormat,
    maxAge: large.maxAge,
    // A client that asks with Observe (node-coap does) matches the block to its notification by it.
    observe: req.observe === 0 ? large.seq : undefined,
  };
}

function flag(v: string | undefined): boolean | null | undefined {
  if (v === undefined) return undefined;
  if (v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  return null;
}
