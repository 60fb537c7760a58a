/**
 * The exchange layer of RFC 7252 §4 and §5.2, done by node-coap's server: a response travels
 * piggybacked on the ACK of a confirmable request (or, when the handler takes longer than
 * `PIGGYBACK_MS`, as an empty ACK followed by a separate confirmable response that node-coap
 * retransmits), as NON for a NON request, and duplicates of a request are answered from
 * node-coap's response cache (§4.5) without running the handler again.
 *
 * node-coap is handed requests the gateway has already parsed, checked and reassembled (see
 * `endpoint.ts` for what node-coap's own parsing and block handling cannot do), through its
 * `_handle` entry point, and reads nothing from the socket itself.
 */
import type { RemoteInfo, Socket } from 'node:dgram';
import type { Logger } from '@junction/broker-core';
import { Server as CoapServer, type IncomingMessage, type OutgoingMessage } from 'coap';
import { encodeBlock } from '../message/block.js';
import { codeToString } from '../message/codes.js';
import type { CoapMessage } from '../message/frame.js';
import { encodeUint } from '../message/options.js';
import type { Reply } from './request.js';

/** Below ACK_TIMEOUT (2 s), so a client does not retransmit while the handler still runs. */
const PIGGYBACK_MS = 1000;

type NodeCoapPacket = Parameters<CoapServer['_handle']>[0];

export class ExchangeLayer {
  private readonly server: CoapServer;
  private readonly pending = new WeakMap<object, (res: OutgoingMessage) => void>();

  constructor(
    socket: Socket,
    private readonly log: Logger,
  ) {
    this.server = new CoapServer({ piggybackReplyMs: PIGGYBACK_MS });
    // node-coap listens on our socket only to write to it: its reader is taken off again, the
    // endpoint feeds it.
    const ours = new Set(socket.listeners('message'));
    this.server.listen(socket);
    for (const l of socket.listeners('message')) if (!ours.has(l)) socket.off('message', l as (...args: unknown[]) => void);
    this.server.on('error', (err: Error) => log.warn({ err: err.message }, 'coap_exchange_error'));
    this.server.on('request', (req: IncomingMessage, res: OutgoingMessage) => {
      res.on('error', (err: Error) => log.debug({ err: err.message }, 'coap_response_failed'));
      const respond = this.pending.get(req._packet);
      if (respond) respond(res);
      else if (res._ackTimer) clearTimeout(res._ackTimer); // not one of ours: no answer
    });
  }

  /**
   * Hands a request to node-coap. `respond` runs (synchronously) with the function that sends the
   * reply, unless node-coap answers a duplicate from its cache. `block2` is passed on for a
   * request for one block of a representation, which node-coap then cuts out of the reply.
   */
  request(m: CoapMessage, rinfo: RemoteInfo, block2: Buffer | undefined, respond: (send: (r: Reply) => void) => void): void {
    const packet: NodeCoapPacket = {
      code: codeToString(m.code),
      confirmable: m.type === 'CON',
      ack: false,
      reset: false,
      messageId: m.messageId,
      token: m.token,
      options: block2 ? [{ name: 'Block2', value: block2 }] : [],
      payload: m.payload,
    };
    // node-coap keeps the representation it cut a block from, keyed by token and peer, and would
    // answer the next block request from it even when a newer notification came in: the entry
    // is dropped before and after, so every block request goes to the handler.
    const cacheKey = `${m.token.toString('hex')}/${rinfo.address}:${rinfo.port}`;
    if (block2) this.server._block2Cache.remove(cacheKey);
    this.pending.set(packet, (res) =>
      respond((r) => {
        writeReply(res, r);
        if (block2) this.server._block2Cache.remove(cacheKey);
      }),
    );
    this.handle(packet, rinfo);
  }

  /** An ACK or RST the notifier did not claim: it may end one of node-coap's separate responses. */
  empty(m: CoapMessage, rinfo: RemoteInfo): void {
    // `ack` is left out of a RST: node-coap tests `ack ?? reset` and would take `ack: false` for a
    // request.
    const packet = { code: '0.00', confirmable: false, reset: m.type === 'RST', messageId: m.messageId, token: m.token, options: [], payload: m.payload };
    this.handle((m.type === 'ACK' ? { ...packet, ack: true } : packet) as NodeCoapPacket, rinfo);
  }

  close(): void {
    // Clears node-coap's response cache, which also stops its retransmissions.
    this.server.close();
  }

  private handle(packet: NodeCoapPacket, rinfo: RemoteInfo): void {
    try {
      this.server._handle(packet, rinfo);
    } catch (err) {
      this.log.warn({ err: (err as Error).message, peer: `${rinfo.address}:${rinfo.port}` }, 'coap_exchange_error');
    }
  }
}

/** Fills node-coap's response from a handler's reply and sends it. */
function writeReply(res: OutgoingMessage, r: Reply): void {
  res.code = r.code;
  if (r.observe !== undefined) res.setOption('Observe', encodeUint(r.observe));
  if (r.contentFormat !== undefined) res.setOption('Content-Format', encodeUint(r.contentFormat));
  if (r.maxAge !== undefined) res.setOption('Max-Age', encodeUint(r.maxAge));
  if (r.block1 !== undefined) res.setOption('Block1', encodeBlock(r.block1));
  if (r.size1 !== undefined) res.setOption('Size1', encodeUint(r.size1));
  if (!r.representation) {
    // Only a representation is cut into blocks; an error for a block request goes out whole.
    const opts = res._request?.options;
    if (opts) res._request.options = opts.filter((o) => o.name !== 'Block2');
  }
  const payload = r.payload === undefined ? undefined : Buffer.isBuffer(r.payload) ? r.payload : Buffer.from(r.payload);
  if (payload === undefined || payload.length === 0) res.end();
  else res.end(payload);
}
