/**
 * HTTP/3 (RFC 9114 §8.1), QPACK (RFC 9204 §6) and WebTransport error codes, and the one error
 * class the HTTP/3 layer throws: its `code` is what goes on the wire (a stream reset or a
 * CONNECTION_CLOSE), its `scope` says which of the two.
 */
export const H3 = {
  NO_ERROR: 0x100,
  GENERAL_PROTOCOL_ERROR: 0x101,
  INTERNAL_ERROR: 0x102,
  STREAM_CREATION_ERROR: 0x103,
  CLOSED_CRITICAL_STREAM: 0x104,
  FRAME_UNEXPECTED: 0x105,
  FRAME_ERROR: 0x106,
  EXCESSIVE_LOAD: 0x107,
  ID_ERROR: 0x108,
  SETTINGS_ERROR: 0x109,
  MISSING_SETTINGS: 0x10a,
  REQUEST_REJECTED: 0x10b,
  REQUEST_CANCELLED: 0x10c,
  REQUEST_INCOMPLETE: 0x10d,
  MESSAGE_ERROR: 0x10e,
  CONNECT_ERROR: 0x10f,
  QPACK_DECOMPRESSION_FAILED: 0x200,
  QPACK_ENCODER_STREAM_ERROR: 0x201,
  QPACK_DECODER_STREAM_ERROR: 0x202,
  /** draft-ietf-webtransport-http3: a stream of a session that no longer exists. */
  WT_SESSION_GONE: 0x170d7b68,
} as const;

export type H3ErrorCode = (typeof H3)[keyof typeof H3];

/** A protocol violation: `connection` closes the whole QUIC connection, `stream` resets one stream. */
export class H3Error extends Error {
  override readonly name = 'H3Error';
  constructor(
    readonly code: H3ErrorCode,
    message: string,
    readonly scope: 'connection' | 'stream' = 'connection',
  ) {
    super(message);
  }
}
