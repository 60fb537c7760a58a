/**
 * CoAP message codes (RFC 7252 §3, §5.9, §12.1): an 8-bit value, class in the top 3 bits and
 * detail in the low 5, written `c.dd`. Requests are class 0, responses 2, 4 and 5.
 */
export type CodeString = `${number}.${number}${number}`;

export function code(cls: number, detail: number): number {
  return (cls << 5) | detail;
}

export function codeClass(c: number): number {
  return c >>> 5;
}

/** `2.05` for 0x45. */
export function codeToString(c: number): CodeString {
  return `${c >>> 5}.${String(c & 0x1f).padStart(2, '0')}` as CodeString;
}

export function codeFromString(s: string): number {
  const m = /^([0-7])\.(\d\d)$/.exec(s);
  if (!m || Number(m[2]) > 31) throw new RangeError(`not a CoAP code: ${s}`);
  return code(Number(m[1]), Number(m[2]));
}

export const EMPTY = 0;

/** Request methods (RFC 7252 §12.1.1); FETCH, PATCH and iPATCH (RFC 8132) are not served. */
export const Method = { GET: 1, POST: 2, PUT: 3, DELETE: 4 } as const;
export type MethodName = keyof typeof Method;

export function methodName(c: number): MethodName | undefined {
  switch (c) {
    case 1: return 'GET';
    case 2: return 'POST';
    case 3: return 'PUT';
    case 4: return 'DELETE';
    default: return undefined;
  }
}

/** The response codes the gateway sends, as EMQX's CoAP gateway uses them. */
export const Rsp = {
  CREATED: '2.01',
  DELETED: '2.02',
  CHANGED: '2.04',
  CONTENT: '2.05',
  /** Not in RFC 7252: EMQX answers an unsubscribe with it, so Junction does too. */
  NO_CONTENT: '2.07',
  CONTINUE: '2.31',
  BAD_REQUEST: '4.00',
  UNAUTHORIZED: '4.01',
  BAD_OPTION: '4.02',
  FORBIDDEN: '4.03',
  NOT_FOUND: '4.04',
  METHOD_NOT_ALLOWED: '4.05',
  REQUEST_ENTITY_INCOMPLETE: '4.08',
  REQUEST_ENTITY_TOO_LARGE: '4.13',
  INTERNAL_SERVER_ERROR: '5.00',
  SERVICE_UNAVAILABLE: '5.03',
} as const satisfies Record<string, CodeString>;
export type ResponseCode = (typeof Rsp)[keyof typeof Rsp];
