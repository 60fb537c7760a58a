/**
 * The one error the decoder throws: whatever bytes arrive, `decode()` returns a message or throws
 * this. `reason` is a constant snake_case string suitable for logs and counters.
 */
export class MqttSnDecodeError extends Error {
  readonly reason: DecodeFailure;
  constructor(reason: DecodeFailure, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${reason}: ${detail}` : reason, options);
    this.reason = reason;
    this.name = 'MqttSnDecodeError';
  }
}

export type DecodeFailure =
  | 'too_short'
  | 'length_mismatch'
  | 'unknown_type'
  | 'truncated'
  | 'trailing_bytes'
  | 'invalid_utf8'
  | 'invalid_flags'
  | 'invalid_topic_id_type'
  | 'nested_encapsulation';
