import type { CloseReason } from '@junction/broker-core';

/** How a CALL to the charger ended. Never a rejection: every way is a value. */
export type PeerCallOutcome =
  | { ok: true; payload: unknown }
  /** The charger answered with a CALLERROR. */
  | { ok: false; kind: 'callerror'; code: string; description: string; details: unknown }
  | { ok: false; kind: 'timeout' }
  /** The connection ended before an answer came. */
  | { ok: false; kind: 'closed' };

/** The charger's end of the WebSocket, as the charger state sees it (implemented by the transport). */
export interface ChargerPeer {
  /** Send a CALL; at most one is outstanding, the charger state sees to that. */
  call(action: string, payload: unknown, timeoutMs: number): Promise<PeerCallOutcome>;
  /** Close the WebSocket with the close code for `reason`. */
  close(reason: CloseReason): void;
}

/** A CALL from the charger. */
export interface InboundCall {
  readonly uniqueId: string;
  readonly action: string;
  readonly payload: unknown;
}
