/**
 * OCPP-J RPC frames and the JSON message objects the back end sees on MQTT (EMQX's format).
 *
 * OCPP-J (1.6 §4, 2.0.1 Part 4 §4) frames are JSON arrays:
 *   CALL       [2, UniqueId, Action, Payload]
 *   CALLRESULT [3, UniqueId, Payload]
 *   CALLERROR  [4, UniqueId, ErrorCode, ErrorDescription, ErrorDetails]
 * On MQTT they are objects:
 *   {MessageTypeId: 2, UniqueId, Action, Payload}
 *   {MessageTypeId: 3, UniqueId, Payload}                          (+ Action, Junction)
 *   {MessageTypeId: 4, UniqueId, ErrorCode, ErrorDescription, ErrorDetails}  (+ Action)
 * Pure functions only; no sockets.
 */

export const CALL = 2;
export const CALLRESULT = 3;
export const CALLERROR = 4;

export interface CallMessage {
  MessageTypeId: typeof CALL;
  UniqueId: string;
  Action: string;
  Payload: unknown;
}

export interface CallResultMessage {
  MessageTypeId: typeof CALLRESULT;
  UniqueId: string;
  Payload: unknown;
  /** The action this result answers; the gateway adds it, the back end may leave it out. */
  Action?: string;
}

export interface CallErrorMessage {
  MessageTypeId: typeof CALLERROR;
  UniqueId: string;
  ErrorCode: string;
  ErrorDescription: string;
  ErrorDetails: unknown;
  Action?: string;
}

export type OcppMessage = CallMessage | CallResultMessage | CallErrorMessage;

/** An OCPP-J frame as it travels on the WebSocket. */
export type RpcFrame = [typeof CALL, string, string, unknown] | [typeof CALLRESULT, string, unknown] | [typeof CALLERROR, string, string, string, unknown];

/** A message that could not be read; `uniqueId` when one was found, to report against. */
export class MessageFormatError extends Error {
  constructor(
    message: string,
    readonly uniqueId?: string,
  ) {
    super(message);
    this.name = 'MessageFormatError';
  }
}

export function callMessage(uniqueId: string, action: string, payload: unknown): CallMessage {
  return { MessageTypeId: CALL, UniqueId: uniqueId, Action: action, Payload: payload };
}

export function callResultMessage(uniqueId: string, payload: unknown, action?: string): CallResultMessage {
  const m: CallResultMessage = { MessageTypeId: CALLRESULT, UniqueId: uniqueId, Payload: payload };
  if (action !== undefined) m.Action = action;
  return m;
}

export function callErrorMessage(uniqueId: string, code: string, description: string, details: unknown = {}, action?: string): CallErrorMessage {
  const m: CallErrorMessage = { MessageTypeId: CALLERROR, UniqueId: uniqueId, ErrorCode: code, ErrorDescription: description, ErrorDetails: details ?? {} };
  if (action !== undefined) m.Action = action;
  return m;
}

/** Message object -> OCPP-J frame. */
export function toFrame(m: OcppMessage): RpcFrame {
  switch (m.MessageTypeId) {
    case CALL:
      return [CALL, m.UniqueId, m.Action, m.Payload];
    case CALLRESULT:
      return [CALLRESULT, m.UniqueId, m.Payload];
    case CALLERROR:
      return [CALLERROR, m.UniqueId, m.ErrorCode, m.ErrorDescription, m.ErrorDetails];
  }
}

/** OCPP-J frame -> message object. Throws `MessageFormatError` on anything but a valid frame. */
export function fromFrame(frame: unknown): OcppMessage {
  if (!Array.isArray(frame)) throw new MessageFormatError('an OCPP-J message is a JSON array');
  const [type, id] = frame as unknown[];
  if (typeof id !== 'string' || id === '') throw new MessageFormatError('UniqueId must be a non-empty string');
  switch (type) {
    case CALL:
      if (frame.length !== 4 || typeof frame[2] !== 'string') throw new MessageFormatError('CALL is [2, UniqueId, Action, Payload]', id);
      return callMessage(id, frame[2], frame[3]);
    case CALLRESULT:
      if (frame.length !== 3) throw new MessageFormatError('CALLRESULT is [3, UniqueId, Payload]', id);
      return callResultMessage(id, frame[2]);
    case CALLERROR:
      if (frame.length !== 5 || typeof frame[2] !== 'string' || typeof frame[3] !== 'string') {
        throw new MessageFormatError('CALLERROR is [4, UniqueId, ErrorCode, ErrorDescription, ErrorDetails]', id);
      }
      return callErrorMessage(id, frame[2], frame[3], frame[4]);
    default:
      throw new MessageFormatError(`unknown MessageTypeId ${JSON.stringify(type)}`, id);
  }
}

/** Message object -> MQTT payload. */
export function encodeMessage(m: OcppMessage): Buffer {
  return Buffer.from(JSON.stringify(m));
}

/**
 * MQTT payload from the back end -> message object. Lenient where EMQX is: a numeric UniqueId is
 * taken as its decimal string, a missing ErrorDescription as "" and missing ErrorDetails as {}.
 * Throws `MessageFormatError`.
 */
export function decodeMessage(payload: Buffer | string): OcppMessage {
  let value: unknown;
  try {
    value = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch {
    throw new MessageFormatError('payload is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new MessageFormatError('payload is not a JSON object');
  const o = value as Record<string, unknown>;
  const rawId = o.UniqueId;
  const id = typeof rawId === 'number' && Number.isFinite(rawId) ? String(rawId) : rawId;
  if (typeof id !== 'string' || id === '') throw new MessageFormatError('UniqueId must be a non-empty string');
  const action = o.Action;
  if (action !== undefined && typeof action !== 'string') throw new MessageFormatError('Action must be a string', id);
  switch (o.MessageTypeId) {
    case CALL:
      if (typeof action !== 'string' || action === '') throw new MessageFormatError('a CALL needs an Action', id);
      if (!('Payload' in o)) throw new MessageFormatError('a CALL needs a Payload', id);
      return callMessage(id, action, o.Payload);
    case CALLRESULT:
      if (!('Payload' in o)) throw new MessageFormatError('a CALLRESULT needs a Payload', id);
      return callResultMessage(id, o.Payload, action);
    case CALLERROR: {
      if (typeof o.ErrorCode !== 'string' || o.ErrorCode === '') throw new MessageFormatError('a CALLERROR needs an ErrorCode', id);
      const desc = o.ErrorDescription ?? '';
      if (typeof desc !== 'string') throw new MessageFormatError('ErrorDescription must be a string', id);
      return callErrorMessage(id, o.ErrorCode, desc, o.ErrorDetails ?? {}, action);
    }
    default:
      throw new MessageFormatError(`MessageTypeId must be 2, 3 or 4, not ${JSON.stringify(o.MessageTypeId)}`, id);
  }
}

/** OCPP protocol versions by WebSocket subprotocol. */
export type OcppVersion = '1.6' | '2.0.1';

export function versionOf(subprotocol: string): OcppVersion {
  return subprotocol === 'ocpp2.0.1' ? '2.0.1' : '1.6';
}

/**
 * The spelling of an RPC error code in one OCPP version: 1.6 writes FormationViolation (and,
 * after its errata, OccurrenceConstraintViolation), 2.0.1 FormatViolation. Matches what
 * ocpp-rpc sends to chargers, so the back end and the charger see the same code.
 */
export function errorCodeFor(version: OcppVersion, code: string): string {
  if (version === '1.6') {
    if (code === 'FormatViolation') return 'FormationViolation';
    if (code === 'OccurenceConstraintViolation') return 'OccurrenceConstraintViolation';
    return code;
  }
  if (code === 'FormationViolation') return 'FormatViolation';
  if (code === 'OccurenceConstraintViolation') return 'OccurrenceConstraintViolation';
  return code;
}
