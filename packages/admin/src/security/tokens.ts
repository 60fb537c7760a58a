/**
 * Login tokens: JWTs (HS256) signed with a random secret made when the process starts, so tokens
 * never outlive the process and no key is ever written down. Logout revokes a token by its `jti`
 * until it would have expired.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface TokenClaims {
  /** User name. */
  readonly sub: string;
  /** Issued at, milliseconds (JWT uses seconds; milliseconds let a password change cut off
   * tokens issued in the same second). */
  readonly iat_ms: number;
  /** Expiry, seconds since the epoch (JWT `exp`). */
  readonly exp: number;
  readonly jti: string;
}

const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export class TokenSigner {
  private readonly secret = randomBytes(32);
  private readonly revoked = new Map<string, number>();

  constructor(
    private ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Lifetime of tokens issued from now on (`dashboard.token_expired_time` changed at run time). */
  setTtl(ms: number): void {
    this.ttlMs = ms;
  }

  issue(username: string): { token: string; claims: TokenClaims } {
    const t = this.now();
    const claims: TokenClaims = { sub: username, iat_ms: t, exp: Math.floor((t + this.ttlMs) / 1000), jti: randomBytes(12).toString('base64url') };
    const body = `${HEADER}.${b64(JSON.stringify(claims))}`;
    return { token: `${body}.${this.sign(body)}`, claims };
  }

  /** The claims of a valid, unexpired, unrevoked token; otherwise why not. */
  verify(token: string): { ok: true; claims: TokenClaims } | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'revoked' } {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== HEADER) return { ok: false, reason: 'malformed' };
    const body = `${parts[0]}.${parts[1]}`;
    const given = Buffer.from(parts[2]!, 'base64url');
    const want = Buffer.from(this.sign(body), 'base64url');
    if (given.length !== want.length || !timingSafeEqual(given, want)) return { ok: false, reason: 'bad_signature' };
    let claims: TokenClaims;
    try {
      claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (typeof claims.exp !== 'number' || claims.exp * 1000 <= this.now()) return { ok: false, reason: 'expired' };
    if (this.revoked.has(claims.jti)) return { ok: false, reason: 'revoked' };
    return { ok: true, claims };
  }

  revoke(claims: TokenClaims): void {
    const t = this.now();
    for (const [jti, exp] of this.revoked) if (exp * 1000 <= t) this.revoked.delete(jti);
    this.revoked.set(claims.jti, claims.exp);
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}
