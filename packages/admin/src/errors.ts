/**
 * Errors of the management API. Each `code` maps to one HTTP status and one EMQX error code
 * (`{ code, message }` bodies, as EMQX's REST API answers).
 */
export type AdminErrorCode =
  | 'bad_request' //        400 BAD_REQUEST
  | 'unauthorized' //       401 BAD_TOKEN / BAD_USERNAME_OR_PWD / BAD_API_KEY_OR_SECRET
  | 'forbidden' //          403 FORBIDDEN (a viewer writing, an API key managing keys)
  | 'not_found' //          404 NOT_FOUND / CLIENTID_NOT_FOUND
  | 'already_exists' //     409 ALREADY_EXISTS
  | 'locked' //             429 LOGIN_LOCKED
  | 'not_supported' //      501 NOT_SUPPORTED (e.g. no auth stores were given)
  | 'unavailable'; //       503 SERVICE_UNAVAILABLE (a listener that cannot bind now)

export class AdminError extends Error {
  readonly code: AdminErrorCode;
  /** The EMQX code in the response body, when it differs from the default of `code`. */
  readonly apiCode: string | undefined;
  constructor(code: AdminErrorCode, message: string, opts?: { apiCode?: string; cause?: unknown }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.apiCode = opts?.apiCode;
    this.name = 'AdminError';
  }
}

export const HTTP_STATUS: Readonly<Record<AdminErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  already_exists: 409,
  locked: 429,
  not_supported: 501,
  unavailable: 503,
};

export const DEFAULT_API_CODE: Readonly<Record<AdminErrorCode, string>> = {
  bad_request: 'BAD_REQUEST',
  unauthorized: 'BAD_TOKEN',
  forbidden: 'FORBIDDEN',
  not_found: 'NOT_FOUND',
  already_exists: 'ALREADY_EXISTS',
  locked: 'LOGIN_LOCKED',
  not_supported: 'NOT_SUPPORTED',
  unavailable: 'SERVICE_UNAVAILABLE',
};

/**
 * Errors thrown by the stores behind the API that are not ours (the auth plugin's `AuthError`
 * with codes such as `user_exists`), recognised by their `code` so that this package does not
 * import the plugin.
 */
export function fromStoreError(err: unknown): AdminError | undefined {
  if (err instanceof AdminError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = (err as Error | null)?.message ?? String(err);
  switch (code) {
    case 'user_exists':
    case 'ban_exists':
      return new AdminError('already_exists', message, { cause: err });
    case 'user_not_found':
      return new AdminError('not_found', message, { cause: err });
    case 'invalid_user':
    case 'invalid_rule':
    case 'invalid_ban':
    case 'acl_syntax':
    case 'topic_name_invalid':
    case 'topic_filter_invalid':
    case 'quota_exceeded':
      return new AdminError('bad_request', message, { cause: err });
    default:
      return undefined;
  }
}
