import { JunctionError } from '@junction/broker-core';

/**
 * A charger CALL the gateway answers with a CALLERROR: the transport turns it into
 * `[4, UniqueId, errorCode, message, details]`.
 */
export class OcppCallError extends Error {
  constructor(
    readonly errorCode: string,
    description: string,
    readonly details: unknown = {},
    options?: { cause?: unknown },
  ) {
    super(description, options);
    this.name = 'OcppCallError';
  }
}

/** The core's error taxonomy mapped to OCPP RPC error codes, at the adapter's edge. */
export function callErrorFor(err: unknown): OcppCallError {
  if (err instanceof OcppCallError) return err;
  if (err instanceof JunctionError) {
    switch (err.code) {
      case 'not_authorized':
      case 'banned':
      case 'bad_credentials':
        return new OcppCallError('SecurityError', err.message, {}, { cause: err });
      case 'session_closed':
        return new OcppCallError('GenericError', 'the connection is closing', {}, { cause: err });
      default:
        return new OcppCallError('InternalError', err.message, {}, { cause: err });
    }
  }
  return new OcppCallError('InternalError', 'internal error', {}, { cause: err });
}
