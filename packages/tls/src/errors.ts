/** A TLS setting or file that cannot be used: a missing or malformed file, a key that does not match. */
export class TlsConfigError extends Error {
  override readonly name = 'TlsConfigError';
}
