/**
 * Work-around for a fault of @matrixai/quic 2.0.9: a stream the client opens while the server
 * connection is still starting (its first data often arrives with the client's handshake
 * Finished) is shut down by the library, and the client then fails with InvalidStreamState. Until
 * the listener has taken the connection, its stream processing is held back; quiche keeps the
 * data, and `release` processes the streams once the listener listens for them.
 */
import type { QUICConnection, QUICSocket } from '@matrixai/quic';
import { lightenConnection } from './lighten.js';

interface Internals {
  processStreams(): void;
  send(): Promise<void>;
}

const patched = new WeakSet<QUICConnection>();
const held = new WeakSet<QUICConnection>();

/** Hold back stream processing of every connection the server adds to this socket. */
export function holdEarlyStreams(socket: QUICSocket): void {
  const map = (socket as unknown as { connectionMap: Map<unknown, QUICConnection> }).connectionMap;
  const set = map.set.bind(map);
  map.set = (id, conn) => {
    if (!patched.has(conn)) {
      patched.add(conn);
      lightenConnection(conn);
      held.add(conn);
      const internals = conn as unknown as Internals;
      const process = internals.processStreams.bind(conn);
      internals.processStreams = () => {
        if (!held.has(conn)) process();
      };
    }
    return set(id, conn);
  };
}

/** Process the streams held back so far, and from now on as they come. */
export function releaseStreams(conn: QUICConnection): void {
  if (!held.delete(conn)) return;
  const internals = conn as unknown as Internals;
  try {
    internals.processStreams();
    internals.send().catch(() => {});
  } catch {
    // The connection closed meanwhile: its stopped event cleans up.
  }
}
