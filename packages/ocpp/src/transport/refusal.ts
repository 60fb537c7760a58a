/** Refused handshakes: the HTTP status for a refusal of the core, and the raw HTTP answer. */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { AuthenticationError, JunctionError } from '@junction/broker-core';
import type { Refusal } from './handshake.js';

/** The HTTP answer to a refused session. */
export function refusalFor(err: unknown): Refusal {
  if (!(err instanceof JunctionError)) return { status: 500, message: 'internal error' };
  if (err instanceof AuthenticationError) {
    switch (err.code) {
      case 'banned':
        // OCPP defines one answer to a charger whose credentials are refused (security
        // profiles 1 and 2): 401. A banned charger is refused its credentials.
        return { status: 401, message: 'banned' };
      case 'server_unavailable':
        return { status: 503, message: 'server unavailable' };
      case 'client_id_invalid':
        return { status: 400, message: 'invalid charge point id' };
      default:
        return { status: 401, message: 'not authorized' };
    }
  }
  if (err.code === 'not_authorized') return { status: 403, message: err.message };
  if (err.code === 'session_closed') return { status: 400, message: 'connection closed during the handshake' };
  return { status: 500, message: err.message };
}

export function refuseSocket(socket: Duplex, r: Refusal): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${r.message}\n`;
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? ''}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
