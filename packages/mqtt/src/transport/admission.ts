/**
 * `max_conn_rate` for stream listeners (TCP, TLS, WebSocket): a new connection is admitted at once,
 * or held — paused, nothing read — until the rate allows, as EMQX pauses accepting; when too many
 * wait, it is dropped. A held connection that closes meanwhile is skipped.
 */
import type { Duplex } from 'node:stream';
import type { ConnectionRateGate } from '@junction/broker-core';

export type Admission = 'admitted' | 'held' | 'dropped';

export function admitWhenAllowed(gate: ConnectionRateGate, socket: Duplex, admit: () => void, drop: () => void): Admission {
  let gone = false;
  let held = false;
  const onGone = () => (gone = true);
  socket.once('close', onGone);
  socket.on('error', onGone);
  const outcome = gate.offer({
    get gone() {
      return gone;
    },
    admit: () => {
      socket.off('close', onGone);
      socket.off('error', onGone);
      admit();
      // The protocol's listeners are on the socket now: nothing read is lost.
      if (held) socket.resume();
    },
    drop,
  });
  if (outcome === 'held') {
    held = true;
    socket.pause();
  }
  return outcome;
}
