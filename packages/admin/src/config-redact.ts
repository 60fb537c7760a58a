/**
 * Secrets out of a config before the API shows it: values of keys named like a password, secret,
 * token or private key become `******`, so do PEM blocks wherever they are and the password in a
 * URL (`postgres://user:******@host`).
 */
const REDACTED = '******';
/** Whole key names, or their last `_` part: `password`, `default_password`, `api_secret`, `key`,
 * `private_key`, `jwt.secret`; not `token_expired_time`, `keyfile` or `max_keys`. */
const SECRET_KEY = /(^|_)(password|passwd|pwd|passphrase|secret|token|key|credentials?|authorization|cookie)$/i;
const PEM = /-----BEGIN [A-Z ]+-----/;
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):[^@/?#\s]*@/i;

export function redactConfig(value: unknown, depth = 0): unknown {
  if (depth > 32) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactConfig(v, depth + 1));
  if (typeof value === 'string') {
    if (PEM.test(value)) return REDACTED;
    return value.replace(URL_PASSWORD, `$1:${REDACTED}@`);
  }
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value)) return REDACTED;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function') continue;
    // Objects under such names (the `api_key` section) are walked like any other.
    const secret = SECRET_KEY.test(k) && (typeof v === 'string' || typeof v === 'number') && v !== '';
    out[k] = secret ? REDACTED : redactConfig(v, depth + 1);
  }
  return out;
}
