/**
 * The crypto callbacks @matrixai/quic asks for: servers sign and verify their stateless retry
 * tokens with an HMAC key made at start; clients need random bytes.
 */
import { createHmac, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';
import type { QUICClientCrypto, QUICServerCrypto } from '@matrixai/quic';

function hmac(key: ArrayBuffer, data: ArrayBuffer): Buffer {
  return createHmac('sha256', Buffer.from(key)).update(Buffer.from(data)).digest();
}

/** Server crypto with a fresh random token key. */
export function serverCrypto(): QUICServerCrypto {
  const key = randomBytes(32);
  return {
    key: new Uint8Array(key).buffer,
    ops: {
      sign: async (k, data) => {
        return new Uint8Array(hmac(k, data)).buffer;
      },
      verify: async (k, data, sig) => {
        const expected = hmac(k, data);
        const given = Buffer.from(sig);
        return given.length === expected.length && timingSafeEqual(given, expected);
      },
    },
  };
}

export const clientCrypto: QUICClientCrypto = {
  ops: {
    randomBytes: async (data) => {
      randomFillSync(new Uint8Array(data));
    },
  },
};
