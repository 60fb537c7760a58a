/**
 * Two Duplex streams joined back to back, in memory: what one end writes, the other reads. Ending
 * one end's writable ends the other's readable; destroying one end destroys the other (a TCP
 * connection without the kernel). `allowHalfOpen: false`, like `net.Socket` by default: a
 * stream whose readable side ends also ends its writable side.
 */
import { Duplex } from 'node:stream';

export function memoryPair(): [Duplex, Duplex] {
  let a: Duplex;
  let b: Duplex;
  const eof = new WeakSet<Duplex>();
  const make = (peer: () => Duplex): Duplex =>
    new Duplex({
      allowHalfOpen: false,
      read() {},
      write(chunk: Buffer, _enc, cb) {
        const p = peer();
        if (!p.destroyed && !eof.has(p)) p.push(chunk);
        cb();
      },
      final(cb) {
        const p = peer();
        if (!p.destroyed && !eof.has(p)) {
          eof.add(p);
          p.push(null);
        }
        cb();
      },
      destroy(err, cb) {
        const p = peer();
        if (!p.destroyed) p.destroy();
        cb(err);
      },
    });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}
