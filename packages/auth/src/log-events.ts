/**
 * The plugin's log events: constant snake_case names passed as the message, details in the object.
 * Fields are identities (clientId, username, peer), never passwords, tokens, secrets or hashes.
 */
export const LOG = {
  authnAllowed: 'authn_allowed',
  authnDenied: 'authn_denied',
  authnNoMatch: 'authn_no_match',
  authnBackendFailed: 'authn_backend_failed',
  authzDenied: 'authz_denied',
  authzBackendFailed: 'authz_backend_failed',
  authzDisconnect: 'authz_deny_disconnect',
  bannedRefused: 'banned_client_refused',
  bannedCreated: 'banned_created',
  bannedKicked: 'banned_client_kicked',
  bannedPurged: 'banned_expired_purged',
  bannedBootstrapFailed: 'banned_bootstrap_failed',
  flappingDetected: 'flapping_detected',
  tokenExpiredKick: 'auth_expired_kicked',
  usersImported: 'authn_users_imported',
  usersRestored: 'authn_users_restored',
  bannedRestored: 'banned_restored',
  usersImportFailed: 'authn_users_import_failed',
  jwksRefreshFailed: 'jwks_refresh_failed',
  redisError: 'redis_connection_error',
  recordSkipped: 'auth_record_unreadable_skipped',
  recordWriteFailed: 'auth_record_write_failed',
  installed: 'auth_installed',
  stopped: 'auth_stopped',
} as const;
