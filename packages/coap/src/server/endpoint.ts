/**
 * The front of one listener: every datagram is parsed here and sorted (RFC 7252 §4):
 * - malformed messages are rejected with RST when confirmable and otherwise ignored (§4.2, §4.3);
 *   an empty CON ("CoAP ping") gets a RST too;
 * - ACK and RST go to the notifier when they answer a notification, else to node-coap;
 * - a request is checked (methods §5.8 -> 4.05, critical options §5.4.1 -> 4.02, Block options
 *   RFC 7959 §2.2 -> 4.00), its Block1 body reassembled (RFC 7959 §2.5; 4.08, 4.13), and it is
 *   handed with its complete body to node-coap's exchange layer, whose response the handler fills.
 *
 * What node-coap's own datagram handling does not do, and why this is by hand: it parses
 * leniently (truncated options, reserved token lengths pass) and answers what it cannot parse
 * with 5.00 instead of RST, sent to the peer's port on the local host (its `_sendError` passes no
 * address); it keys Block1 transfers by token, which libcoap changes on every block, and has no
 * body limit; and it has no Observe notifications the gateway can send CON or NON by
 * `notify_type`, learn the ACK of, or cut into blocks (see `session/notifier.ts`).
 */
import type { RemoteInfo } from 'node:dgram';
import type { Logger } from '@junction/broker-core';
import { decodeBlock, encodeBlock, type Block } from '../message/block.js';
import { codeClass, codeFromString, EMPTY, methodName, Rsp, type ResponseCode } from '../message/codes.js';
import { encode, parse, reset, type CoapMessage } from '../message/frame.js';
import { decodeUint, getOption, isCritical, isRepeatable, Option, RECOGNISED_CRITICAL } from '../message/options.js';
import type { ListenerRef } from '../session/link.js';
import type { Notifier } from '../session/notifier.js';
import type { Peer } from '../transport/udp.js';
import { parseQuery } from '../uri.js';
import type { Block1Assembler } from './block1.js';
import type { ExchangeLayer } from './exchange.js';
import type { CoapRequest, Reply } from './request.js';

export interface EndpointDeps {
  readonly send: (bytes: Buffer, to: Peer) => void;
  readonly exchange: ExchangeLayer;
  readonly notifier: Notifier;
  /** Undefined when block-wise transfer is disabled. */
  readonly block1: Block1Assembler | undefined;
  readonly maxBodySize: number;
  readonly maxBlockSize: number;
  readonly listener: ListenerRef;
  readonly log: Logger;
  readonly handle: (req: CoapRequest) => Reply | Promise<Reply>;
}

export class Endpoint {
  /** Requests whose handler still runs, by peer and Message ID: retransmissions are dropped (§4.5). */
  private readonly inProgress = new Set<string>();
  readonly counts = { malformed: 0, rejected: 0 };

  constructor(private readonly deps: EndpointDeps) {}

  datagram(data: Buffer, peer: Peer, rinfo: RemoteInfo): void {
    const r = parse(data);
    if (!r.ok) {
      this.counts.malformed++;
      this.deps.log.debug({ peer: peer.key, reason: r.reason }, 'coap_malformed_datagram');
      if (r.kind === 'format_error' && r.type === 'CON') this.deps.send(reset(r.messageId), peer);
      return;
    }
    const m = r.message;
    if (m.code === EMPTY) return this.empty(m, peer, rinfo);
    if (codeClass(m.code) !== 0) {
      // A response: the gateway sends no requests, so there is nothing it could answer (§4.2).
      if (m.type === 'CON') this.deps.send(reset(m.messageId), peer);
      return;
    }
    if (m.type === 'CON' || m.type === 'NON') this.request(m, peer, rinfo);
  }

  private empty(m: CoapMessage, peer: Peer, rinfo: RemoteInfo): void {
    if (m.type === 'ACK' || m.type === 'RST') {
      if (!this.deps.notifier.onEmpty(peer, m.type, m.messageId)) this.deps.exchange.empty(m, rinfo);
    } else if (m.type === 'CON') {
      // §4.3: an empty CON is a "ping", answered with RST.
      this.deps.send(reset(m.messageId), peer);
    }
  }

  private request(m: CoapMessage, peer: Peer, rinfo: RemoteInfo): void {
    const method = methodName(m.code);
    // §5.8: FETCH, PATCH, iPATCH (RFC 8132) and unassigned method codes.
    if (!method) return this.direct(m, peer, Rsp.METHOD_NOT_ALLOWED);
    const problem = checkOptions(m);
    if (problem) return this.direct(m, peer, problem.code, problem.reason);

    const block1Value = getOption(m.options, Option.BLOCK1);
    const block2Value = getOption(m.options, Option.BLOCK2);
    const block1 = block1Value && decodeBlock(block1Value);
    let block2 = block2Value && decodeBlock(block2Value);
    if (block2 && block2.size > this.deps.maxBlockSize) {
      // RFC 7959 §2.4: a server may answer with smaller blocks; the number scales with the size.
      block2 = { num: (block2.num * block2.size) / this.deps.maxBlockSize, more: false, size: this.deps.maxBlockSize };
    }
    const key = `${peer.key}/${m.messageId}`;
    if (this.inProgress.has(key)) return;

    let payload = m.payload;
    let finalBlock1: Block | undefined;
    if (block1) {
      const assembler = this.deps.block1;
      // Block-wise transfer disabled: Block1 is a critical option the gateway does not serve.
      if (!assembler) return this.fixed(m, rinfo, { code: Rsp.BAD_OPTION, payload: 'block-wise transfer is disabled' });
      const tag = getOption(m.options, Option.REQUEST_TAG)?.toString('hex') ?? '';
      const transfer = `${peer.key}|${tag}|${m.code}|${pathOf(m).join('/')}|${queryOf(m).join('&')}`;
      const size1 = getOption(m.options, Option.SIZE1);
      const outcome = assembler.accept(transfer, block1, m.payload, m.messageId, size1 && decodeUint(size1));
      switch (outcome.kind) {
        case 'continue':
          return this.fixed(m, rinfo, { code: Rsp.CONTINUE, block1: outcome.block });
        case 'incomplete':
          return this.fixed(m, rinfo, { code: Rsp.REQUEST_ENTITY_INCOMPLETE, payload: 'block out of order' });
        case 'too_large':
          return this.fixed(m, rinfo, { code: Rsp.REQUEST_ENTITY_TOO_LARGE, size1: this.deps.maxBodySize, payload: 'request entity too large' });
        case 'duplicate':
          return this.fixed(m, rinfo, { code: Rsp.REQUEST_ENTITY_INCOMPLETE, payload: 'transfer already complete' });
        case 'complete':
          payload = outcome.body;
          finalBlock1 = { num: outcome.block.num, more: false, size: outcome.block.size };
      }
    } else if (payload.length > this.deps.maxBodySize) {
      return this.fixed(m, rinfo, { code: Rsp.REQUEST_ENTITY_TOO_LARGE, size1: this.deps.maxBodySize, payload: 'request entity too large' });
    }

    const contentFormat = getOption(m.options, Option.CONTENT_FORMAT);
    const observe = getOption(m.options, Option.OBSERVE);
    const req: CoapRequest = {
      link: { listener: this.deps.listener, peer },
      peer,
      confirmable: m.type === 'CON',
      method,
      messageId: m.messageId,
      token: m.token,
      path: pathOf(m),
      query: parseQuery(queryOf(m)),
      observe: observe && decodeUint(observe),
      block2: block2 || undefined,
      contentFormat: contentFormat && decodeUint(contentFormat),
      payload,
    };
    // Only a request for a later block is passed on with its Block2, for node-coap to cut it.
    const forExchange = block2 && block2.num > 0 ? encodeBlock(block2) : undefined;
    this.inProgress.add(key);
    let handled = false;
    this.deps.exchange.request(m, rinfo, forExchange, (send) => {
      handled = true;
      let result: Reply | Promise<Reply>;
      try {
        result = this.deps.handle(req);
      } catch (err) {
        result = Promise.reject(err);
      }
      Promise.resolve(result)
        .catch((err: unknown): Reply => {
          this.deps.log.error({ err, peer: peer.key }, 'coap_handler_failed');
          return { code: Rsp.INTERNAL_SERVER_ERROR, payload: 'internal error' };
        })
        .then((reply) => send(finalBlock1 && reply.block1 === undefined ? { ...reply, block1: finalBlock1 } : reply))
        .catch((err: unknown) => this.deps.log.warn({ err, peer: peer.key }, 'coap_response_failed'))
        .finally(() => this.inProgress.delete(key));
    });
    // node-coap answered a duplicate from its response cache: no handler runs.
    if (!handled) this.inProgress.delete(key);
  }

  /** A reply decided without a handler, still through node-coap (duplicates answered from cache). */
  private fixed(m: CoapMessage, rinfo: RemoteInfo, r: Reply): void {
    this.counts.rejected += r.code.startsWith('2') ? 0 : 1;
    this.deps.exchange.request(m, rinfo, undefined, (send) => send(r));
  }

  /** A reply to a request node-coap is not given (§5.2.2 piggybacked for CON; NON for NON). */
  private direct(m: CoapMessage, peer: Peer, code: ResponseCode, reason?: string): void {
    this.counts.rejected++;
    const bytes = encode({
      type: m.type === 'CON' ? 'ACK' : 'NON',
      code: codeFromString(code),
      messageId: m.messageId,
      token: m.token,
      payload: reason === undefined ? undefined : Buffer.from(reason),
    });
    this.deps.send(bytes, peer);
  }
}

function pathOf(m: CoapMessage): string[] {
  return m.options.filter((o) => o.number === Option.URI_PATH).map((o) => o.value.toString('utf8'));
}

function queryOf(m: CoapMessage): string[] {
  return m.options.filter((o) => o.number === Option.URI_QUERY).map((o) => o.value.toString('utf8'));
}

/**
 * RFC 7252 §5.4.1: an unrecognised critical option, or a repeated non-repeatable one, in a
 * request means 4.02 Bad Option; an If-None-Match with a value too (§5.10.8.2). RFC 7959 §2.2:
 * an undecodable Block option is 4.00, as EMQX answers it.
 */
function checkOptions(m: CoapMessage): { code: ResponseCode; reason: string } | undefined {
  let previous = -1;
  for (const o of m.options) {
    const critical = isCritical(o.number);
    if (critical && !RECOGNISED_CRITICAL.has(o.number)) return { code: Rsp.BAD_OPTION, reason: `unsupported critical option ${o.number}` };
    if (o.number === previous && critical && !isRepeatable(o.number)) return { code: Rsp.BAD_OPTION, reason: `repeated option ${o.number}` };
    if (o.number === Option.IF_NONE_MATCH && o.value.length > 0) return { code: Rsp.BAD_OPTION, reason: 'If-None-Match with a value' };
    if ((o.number === Option.BLOCK1 || o.number === Option.BLOCK2) && decodeBlock(o.value) === undefined) return { code: Rsp.BAD_REQUEST, reason: 'invalid block option' };
    previous = o.number;
  }
  return undefined;
}
