/**
 * Binds an ocpp-rpc server client (one charger's WebSocket) to its `Charger`: CALLs in, CALLs
 * out, activity, close. Error objects of ocpp-rpc become outcomes here, so the charger state
 * never sees the library.
 */
import type { CloseReason, Metrics } from '@junction/broker-core';
import type { Charger } from '../charger/charger.js';
import { OcppCallError } from '../charger/call-error.js';
import type { ChargerPeer, PeerCallOutcome } from '../charger/peer.js';
import { isRpcError, isRpcTimeout, rpcError, type RpcServerClient } from './rpc.js';

/** WebSocket close codes (RFC 6455 §7.4.1) by the reason the core gives. */
export function closeCodeFor(reason: CloseReason): number {
  switch (reason) {
    case 'normal':
    case 'normal_with_will':
    case 'takeover':
      return 1000;
    case 'protocol_error':
      return 1002;
    case 'kicked':
    case 'banned':
    case 'not_authorized':
      return 1008;
    default:
      // server_shutdown, keepalive_timeout, backpressure_timeout, connection_lost
      return 1001;
  }
}

export class RpcPeer implements ChargerPeer {
  private closing = false;

  constructor(private readonly client: RpcServerClient) {}

  async call(action: string, payload: unknown, timeoutMs: number): Promise<PeerCallOutcome> {
    try {
      return { ok: true, payload: await this.client.call(action, payload, { callTimeoutMs: timeoutMs }) };
    } catch (err) {
      if (isRpcError(err)) return { ok: false, kind: 'callerror', code: err.rpcErrorCode, description: err.message, details: err.details ?? {} };
      if (isRpcTimeout(err)) return { ok: false, kind: 'timeout' };
      return { ok: false, kind: 'closed' };
    }
  }

  close(reason: CloseReason): void {
    if (this.closing) return;
    this.closing = true;
    this.client.close({ code: closeCodeFor(reason), reason }).catch(() => {});
  }
}

/** Wires one accepted WebSocket to its charger. */
export function bindCharger(client: RpcServerClient, charger: Charger, metrics: Metrics): void {
  const c = metrics.counters;
  client.on('message', ({ message, outbound }: { message: string | Buffer; outbound: boolean }) => {
    const bytes = typeof message === 'string' ? Buffer.byteLength(message) : message.length;
    if (outbound) {
      c['packets.sent']++;
      c['bytes.sent'] += bytes;
    } else {
      c['packets.received']++;
      c['bytes.received'] += bytes;
      charger.touch();
    }
  });
  client.on('badMessage', ({ error }: { error: Error }) => {
    charger.log.debug({ clientId: charger.clientId, err: error.message }, 'charger_bad_message');
  });
  client.handle(async ({ messageId, method, params }) => {
    try {
      return await charger.onCall({ uniqueId: messageId, action: method, payload: params });
    } catch (err) {
      if (err instanceof OcppCallError) throw rpcError(err.errorCode, err.message, err.details);
      charger.log.error({ clientId: charger.clientId, err }, 'upstream_call_failed');
      throw rpcError('InternalError', 'internal error', {});
    }
  });
  client.once('close', ({ code }: { code?: number }) => {
    charger.transportClosed(code === 1000 || code === 1001 ? 'normal' : 'connection_lost');
  });
  charger.attach(new RpcPeer(client));
}
