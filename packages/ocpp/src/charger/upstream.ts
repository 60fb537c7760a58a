/**
 * CALLs from the charger to the back end: validate, publish to `upstream.topic`, wait for the
 * back end's CALLRESULT or CALLERROR with the same UniqueId on the dnstream topic.
 */
import { CALLRESULT, callMessage, errorCodeFor, type CallErrorMessage, type CallResultMessage } from '../frames.js';
import { callErrorFor, OcppCallError } from './call-error.js';
import { checksDnstream, checksUpstream } from './context.js';
import { intervalFromBoot } from './heartbeat.js';
import type { ChargerOps } from './ops.js';
import type { InboundCall } from './peer.js';

interface Pending {
  readonly uniqueId: string;
  readonly action: string;
  readonly resolve: (payload: unknown) => void;
  readonly reject: (err: OcppCallError) => void;
  readonly timer: unknown;
}

export class UpstreamCalls {
  private pending: Pending | undefined;
  private closed = false;

  constructor(private readonly ch: ChargerOps) {}

  /** The charger's CALL; resolves with the CALLRESULT payload, rejects with `OcppCallError`. */
  call(call: InboundCall): Promise<unknown> {
    const { gw, schemas, identity } = this.ch;
    if (this.closed) return Promise.reject(new OcppCallError('GenericError', 'the connection is closing'));
    if (call.payload === undefined) {
      // [2, UniqueId, Action] without a Payload is no CALL (OCPP-J 1.6 §4.2.1), checked or not.
      return this.refuse(call, errorCodeFor(identity.version, 'FormatViolation'), 'a CALL is [2, UniqueId, Action, Payload]');
    }
    if (checksUpstream(gw.settings.checking)) {
      // An invalid CALL is answered here and never published.
      const bad = schemas.request(call.action, call.payload);
      if (bad) return this.refuse(call, bad.code, bad.description, bad.details);
    }
    if (this.pending) {
      // [OCPP-J 1.6 §4.1.1] [OCPP 2.0.1 Part 4 §4.1.1] one CALL at a time: the charger must await
      // the answer (or its timeout) before the next.
      const code = identity.version === '1.6' ? 'GenericError' : 'RpcFrameworkError';
      return this.refuse(call, code, `CALL ${this.pending.uniqueId} is still awaiting its answer; send one CALL at a time`);
    }
    return new Promise<unknown>((resolve, reject) => {
      const timer = gw.clock.setTimeout(() => this.expire(pending), gw.settings.upstreamTimeout);
      const pending: Pending = { uniqueId: call.uniqueId, action: call.action, resolve, reject, timer };
      // Set before publishing: an embedded back end may answer synchronously.
      this.pending = pending;
      const topic = gw.topics.call(identity, call.action, call.uniqueId);
      this.ch.publish(topic, callMessage(call.uniqueId, call.action, call.payload)).then(
        () => {
          gw.counters.upstream_calls++;
        },
        (err: unknown) => {
          if (this.pending !== pending) return;
          this.settle();
          gw.counters.upstream_refused++;
          this.ch.log.info({ clientId: identity.clientId, action: call.action, err: (err as Error).message }, 'upstream_publish_refused');
          reject(callErrorFor(err));
        },
      );
    });
  }

  /** The back end's answer to the pending CALL. */
  answer(msg: CallResultMessage | CallErrorMessage): void {
    const { gw, schemas, identity } = this.ch;
    const p = this.pending;
    if (!p || p.uniqueId !== msg.UniqueId) {
      gw.counters.dnstream_refused++;
      this.ch.report(msg.UniqueId, msg.Action, 'GenericError', 'no CALL of the charge point awaits an answer with this UniqueId', 'unknown_unique_id');
      return;
    }
    if (msg.MessageTypeId === CALLRESULT) {
      if (checksDnstream(gw.settings.checking)) {
        const bad = schemas.response(p.action, msg.Payload);
        if (bad) {
          // Reported; the CALL keeps waiting, so the back end can still send a valid answer.
          gw.counters.dnstream_refused++;
          this.ch.report(msg.UniqueId, p.action, bad.code, bad.description, 'validation_failed', bad.details);
          return;
        }
      }
      this.settle();
      p.resolve(msg.Payload);
      if (p.action === 'BootNotification') {
        const seconds = intervalFromBoot(msg.Payload);
        if (seconds !== undefined) this.ch.heartbeat(seconds);
      }
      return;
    }
    this.settle();
    p.reject(new OcppCallError(errorCodeFor(identity.version, msg.ErrorCode), msg.ErrorDescription, msg.ErrorDetails));
  }

  /** The connection ended: nothing more is answered. */
  abort(): void {
    this.closed = true;
    const p = this.pending;
    if (!p) return;
    this.settle();
    p.reject(new OcppCallError('GenericError', 'the connection closed'));
  }

  private refuse(call: InboundCall, code: string, description: string, details: unknown = {}): Promise<never> {
    this.ch.gw.counters.upstream_refused++;
    this.ch.log.info({ clientId: this.ch.identity.clientId, action: call.action, uniqueId: call.uniqueId, code, reason: description }, 'upstream_call_refused');
    return Promise.reject(new OcppCallError(code, description, details));
  }

  private expire(p: Pending): void {
    if (this.pending !== p) return;
    this.settle();
    const { gw, identity } = this.ch;
    gw.counters.timeouts++;
    this.ch.log.warn({ clientId: identity.clientId, action: p.action, uniqueId: p.uniqueId }, 'upstream_call_timeout');
    p.reject(new OcppCallError('InternalError', `the central system did not answer within ${gw.settings.upstreamTimeout} ms`));
  }

  private settle(): void {
    if (this.pending) this.ch.gw.clock.clearTimeout(this.pending.timer);
    this.pending = undefined;
  }
}
