/**
 * CALLs from the back end to the charger: one outstanding at a time (OCPP-J §4.1.1), the rest in
 * a bounded queue; the charger's CALLRESULT goes to `reply_topic`, its CALLERROR to
 * `error_topic`, and a timeout or a disconnect becomes an error of the gateway's own.
 *
 * The charger sees a UniqueId of the gateway's (ocpp-rpc generates it); the back end gets its
 * answer under the UniqueId it sent.
 */
import { callErrorMessage, callResultMessage, type CallMessage } from '../frames.js';
import { checksDnstream, checksUpstream } from './context.js';
import { intervalFromConfiguration } from './heartbeat.js';
import type { ChargerOps } from './ops.js';
import type { PeerCallOutcome } from './peer.js';

export class DnstreamCalls {
  private readonly queue: CallMessage[] = [];
  private current: CallMessage | undefined;
  private closed = false;

  constructor(private readonly ch: ChargerOps) {}

  /** Number of CALLs waiting behind the outstanding one. */
  get queued(): number {
    return this.queue.length;
  }

  /** A CALL from the back end: sent now, queued, or refused with a report. */
  offer(msg: CallMessage): void {
    const { gw, schemas } = this.ch;
    if (this.closed) return this.refuse(msg, 'GenericError', 'the charge point is not connected', 'disconnected');
    if (checksDnstream(gw.settings.checking)) {
      const bad = schemas.request(msg.Action, msg.Payload);
      if (bad) return this.refuse(msg, bad.code, bad.description, 'validation_failed', bad.details);
    }
    if (this.current) {
      if (this.queue.length >= gw.settings.maxQueue) {
        return this.refuse(msg, 'GenericError', `${this.queue.length} CALLs already wait for this charge point (dnstream.max_mqueue_len)`, 'queue_full');
      }
      this.queue.push(msg);
      return;
    }
    this.send(msg);
  }

  /** The connection ended: queued CALLs are reported; the outstanding one ends as `closed`. */
  abort(): void {
    this.closed = true;
    for (const msg of this.queue.splice(0)) this.refuse(msg, 'GenericError', 'the charge point disconnected before the CALL was sent', 'disconnected');
  }

  private send(msg: CallMessage): void {
    const peer = this.ch.peer;
    if (!peer) return this.refuse(msg, 'GenericError', 'the charge point is not connected', 'disconnected');
    this.current = msg;
    this.ch.gw.counters.dnstream_calls++;
    peer.call(msg.Action, msg.Payload, this.ch.gw.settings.dnstreamTimeout).then(
      (outcome) => this.settle(msg, outcome),
      (err: unknown) => this.settle(msg, { ok: false, kind: 'closed' }, err),
    );
  }

  private settle(msg: CallMessage, outcome: PeerCallOutcome, err?: unknown): void {
    if (err) this.ch.log.error({ clientId: this.ch.identity.clientId, err }, 'dnstream_call_failed');
    this.current = undefined;
    try {
      this.forward(msg, outcome);
    } finally {
      const next = this.closed ? undefined : this.queue.shift();
      if (next) this.send(next);
    }
  }

  /** Publishes what became of a CALL. */
  private forward(msg: CallMessage, outcome: PeerCallOutcome): void {
    const { gw, identity, schemas } = this.ch;
    const id = msg.UniqueId;
    if (outcome.ok) {
      if (checksUpstream(gw.settings.checking)) {
        const bad = schemas.response(msg.Action, outcome.payload);
        if (bad) return this.ch.report(id, msg.Action, bad.code, `the charge point's answer is invalid: ${bad.description}`, 'validation_failed', bad.details);
      }
      const seconds = intervalFromConfiguration(identity.version, msg.Action, msg.Payload, outcome.payload);
      if (seconds !== undefined) this.ch.heartbeat(seconds);
      return this.publish(gw.topics.reply(identity, msg.Action, id), callResultMessage(id, outcome.payload ?? null, msg.Action));
    }
    switch (outcome.kind) {
      case 'callerror':
        return this.publish(gw.topics.error(identity, msg.Action, id), callErrorMessage(id, outcome.code, outcome.description, outcome.details, msg.Action));
      case 'timeout':
        gw.counters.timeouts++;
        this.ch.log.warn({ clientId: identity.clientId, action: msg.Action, uniqueId: id }, 'dnstream_call_timeout');
        return this.ch.report(id, msg.Action, 'GenericError', `the charge point did not answer within ${gw.settings.dnstreamTimeout} ms`, 'timeout');
      case 'closed':
        gw.counters.dnstream_refused++;
        return this.ch.report(id, msg.Action, 'GenericError', 'the charge point disconnected before answering', 'disconnected');
    }
  }

  private publish(topic: string, message: Parameters<ChargerOps['publish']>[1]): void {
    this.ch.publish(topic, message).catch((err: unknown) => {
      this.ch.log.info({ clientId: this.ch.identity.clientId, topic, err: (err as Error).message }, 'reply_publish_refused');
    });
  }

  private refuse(msg: CallMessage, code: string, description: string, reason: 'disconnected' | 'validation_failed' | 'queue_full', details?: Record<string, unknown>): void {
    this.ch.gw.counters.dnstream_refused++;
    this.ch.log.info({ clientId: this.ch.identity.clientId, action: msg.Action, uniqueId: msg.UniqueId, reason }, 'dnstream_call_refused');
    this.ch.report(msg.UniqueId, msg.Action, code, description, reason, details);
  }
}
