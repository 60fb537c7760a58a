/**
 * Password hashes for dashboard users: PBKDF2-HMAC-SHA512 with a random 16-byte salt, the
 * iteration count stored with each hash so it can be raised later without breaking old ones.
 */
import { pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

/** OWASP's 2023 recommendation for PBKDF2-HMAC-SHA512. */
export const DEFAULT_ITERATIONS = 210_000;
const KEY_LENGTH = 64;
const DIGEST = 'sha512';

export interface PasswordHash {
  readonly algorithm: 'pbkdf2-sha512';
  readonly iterations: number;
  /** Base64. */
  readonly salt: string;
  /** Base64. */
  readonly hash: string;
}

export async function hashPassword(password: string, iterations = DEFAULT_ITERATIONS): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const key = await pbkdf2Async(password, salt, iterations, KEY_LENGTH, DIGEST);
  return { algorithm: 'pbkdf2-sha512', iterations, salt: salt.toString('base64'), hash: key.toString('base64') };
}

export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, 'base64');
  const key = await pbkdf2Async(password, Buffer.from(stored.salt, 'base64'), stored.iterations, expected.length || KEY_LENGTH, DIGEST);
  return expected.length === key.length && timingSafeEqual(expected, key);
}

/** A hash of nothing in particular: unknown user names are checked against it, so that they
 * take as long to refuse as wrong passwords. */
export async function dummyHash(iterations = DEFAULT_ITERATIONS): Promise<PasswordHash> {
  return hashPassword(randomBytes(16).toString('hex'), iterations);
}

/** A random password for the first administrator: 18 bytes, base64url (24 characters). */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}
