/**
 * Connection events the back end reads on `upstream.event_topic` (retained, so a back end that
 * starts later still learns each charger's state). Field names follow EMQX's client events.
 */
import type { CloseReason } from '@junction/broker-core';
import type { OcppVersion } from '../frames.js';

export interface ChargerIdentity {
  readonly clientId: string;
  readonly username?: string;
  readonly version: OcppVersion;
  /** The WebSocket subprotocol agreed, e.g. `ocpp1.6`; "" when the charger offered none. */
  readonly subprotocol: string;
  /** `host:port` of the charger. */
  readonly peer: string;
  /** e.g. `ws:default`. */
  readonly listener: string;
}

export interface ConnectedEvent {
  event: 'connected';
  clientid: string;
  username: string | null;
  proto_name: 'OCPP';
  proto_ver: OcppVersion;
  subprotocol: string;
  peername: string;
  listener: string;
  /** Seconds of the heartbeat interval in force. */
  keepalive: number;
  connected_at: number;
  ts: number;
}

export interface DisconnectedEvent {
  event: 'disconnected';
  clientid: string;
  username: string | null;
  proto_name: 'OCPP';
  proto_ver: OcppVersion;
  peername: string;
  /** Why: `normal`, `connection_lost`, `takeover`, `keepalive_timeout`, `kicked`, ... */
  reason: CloseReason;
  connected_at: number;
  disconnected_at: number;
  ts: number;
}

export function connectedEvent(c: ChargerIdentity, keepalive: number, connectedAt: number): ConnectedEvent {
  return {
    event: 'connected',
    clientid: c.clientId,
    username: c.username ?? null,
    proto_name: 'OCPP',
    proto_ver: c.version,
    subprotocol: c.subprotocol,
    peername: c.peer,
    listener: c.listener,
    keepalive,
    connected_at: connectedAt,
    ts: connectedAt,
  };
}

export function disconnectedEvent(c: ChargerIdentity, reason: CloseReason, connectedAt: number, now: number): DisconnectedEvent {
  return {
    event: 'disconnected',
    clientid: c.clientId,
    username: c.username ?? null,
    proto_name: 'OCPP',
    proto_ver: c.version,
    peername: c.peer,
    reason,
    connected_at: connectedAt,
    disconnected_at: now,
    ts: now,
  };
}
