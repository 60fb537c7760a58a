/**
 * Errors of the auth plugin. Configuration problems are the core's `ConfigError` (with the path
 * of the bad key); everything the management API can refuse is an `AuthError` with a `code`.
 */
export type AuthErrorCode =
  | 'user_exists' //        add: the user id is taken
  | 'user_not_found' //     update/delete of an unknown user
  | 'invalid_user' //       a user record or import row is unusable
  | 'acl_syntax' //         acl.conf text does not parse
  | 'invalid_rule' //       an ACL rule (file, JSON, Redis, JWT claim) has a bad field
  | 'ban_exists' //         a live ban for the same `as`/`who` exists
  | 'invalid_ban'; //       bad `as`, bad address or regex, or already expired

export class AuthError extends Error {
  readonly code: AuthErrorCode;
  constructor(code: AuthErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'AuthError';
  }
}

/** acl.conf text that does not parse, with the 1-based position of the problem. */
export class AclSyntaxError extends AuthError {
  readonly line: number;
  readonly column: number;
  constructor(message: string, line: number, column: number, source = 'acl.conf') {
    super('acl_syntax', `${source}:${line}:${column}: ${message}`);
    this.line = line;
    this.column = column;
    this.name = 'AclSyntaxError';
  }
}

export class InvalidRuleError extends AuthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('invalid_rule', message, options);
    this.name = 'InvalidRuleError';
  }
}
