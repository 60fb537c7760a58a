/** The management plane's log events: constant names, details in the fields. Secrets (passwords,
 * tokens, API secrets) never appear in any of them, except the one-time generated password of
 * `adminPasswordCreated`, which is how an operator learns it. */
export const LOG = {
  /** The first administrator was created with a random password, in the `initial_password` field (once; the
   * gateway's log redaction of `password` fields would hide it). */
  adminPasswordCreated: 'admin_password_created',
  /** The first administrator was created with the configured password (not logged). */
  adminUserCreated: 'admin_user_created',
  /** A write through the API: who, what, result. */
  audit: 'admin_audit',
  listening: 'admin_listening',
  stopped: 'admin_stopped',
  loginFailed: 'admin_login_failed',
  loginLocked: 'admin_login_locked',
  apiKeysImported: 'admin_api_keys_imported',
  storeWriteFailed: 'admin_store_write_failed',
  requestFailed: 'admin_request_failed',
  listenerStopped: 'admin_listener_stopped',
  listenerStarted: 'admin_listener_started',
  listenerStartFailed: 'admin_listener_start_failed',
  gatewayDisabled: 'admin_gateway_disabled',
  gatewayEnabled: 'admin_gateway_enabled',
  /** A setting changed at run time through `PUT /api/v5/configs/{section}`. */
  configUpdated: 'admin_config_updated',
  traceCreated: 'admin_trace_created',
  traceStopped: 'admin_trace_stopped',
  traceDeleted: 'admin_trace_deleted',
  traceWriteFailed: 'admin_trace_write_failed',
} as const;
