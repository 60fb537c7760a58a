import type { Logger } from '@junction/broker-core';
import type { OcppMessage } from '../frames.js';
import type { MessageSchemas } from '../schemas.js';
import type { GatewayContext } from './context.js';
import type { ChargerIdentity } from './events.js';
import type { ChargerPeer } from './peer.js';

/**
 * Why the gateway reports an error to the back end itself (in `ErrorDetails.reason`, with
 * `ErrorDetails.source: "gateway"`), as opposed to forwarding a charger's CALLERROR.
 */
export type ReportReason =
  /** The charger did not answer a back-end CALL within `dnstream.awaiting_timeout`. */
  | 'timeout'
  /** The charger disconnected before a back-end CALL was answered or sent. */
  | 'disconnected'
  /** `dnstream.max_mqueue_len` back-end CALLs were already waiting. */
  | 'queue_full'
  /** A payload failed the OCPP JSON schema (`message_format_checking`). */
  | 'validation_failed'
  /** Not an OCPP message object: bad JSON, missing or wrong fields. */
  | 'invalid_message'
  /** An answer whose UniqueId matches no CALL of the charger awaiting one. */
  | 'unknown_unique_id';

/** What the upstream and downstream halves need from their charger. */
export interface ChargerOps {
  readonly gw: GatewayContext;
  readonly identity: ChargerIdentity;
  readonly schemas: MessageSchemas;
  readonly log: Logger;
  /** The charger's WebSocket, while attached and open. */
  readonly peer: ChargerPeer | undefined;
  /** Publish as the charger (the authorization chain applies). Rejects with `JunctionError`. */
  publish(topic: string, message: OcppMessage): Promise<void>;
  /** Publish a CALLERROR of the gateway's own on the error topic. */
  report(uniqueId: string, action: string | undefined, code: string, description: string, reason: ReportReason, details?: Record<string, unknown>): void;
  /** The charger's heartbeat interval is now `seconds`. */
  heartbeat(seconds: number): void;
}
