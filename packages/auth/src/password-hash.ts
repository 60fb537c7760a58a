/**
 * Password hashes in EMQX's formats (`emqx_passwd`): lower-case hex digests of salt+password
 * (prefix), password+salt (suffix) or the password alone; `plain` stores salt and password as
 * they are; bcrypt stores the whole `$2b$...` string; pbkdf2 stores the hex derived key.
 */
import { createHash, getHashes, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';

const pbkdf2Async = promisify(pbkdf2);

export type SimpleHashName = 'plain' | 'md5' | 'sha' | 'sha256' | 'sha512';
export type SaltPosition = 'disable' | 'prefix' | 'suffix';
export type Pbkdf2MacFun = 'md4' | 'md5' | 'ripemd160' | 'sha' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export type HashAlgorithm =
  | { name: SimpleHashName; salt_position: SaltPosition }
  | { name: 'bcrypt'; salt_rounds?: number }
  | { name: 'pbkdf2'; mac_fun: Pbkdf2MacFun; iterations: number; dk_length?: number };

/** Node's digest name for an EMQX hash name. */
export function digestName(name: Exclude<SimpleHashName, 'plain'> | Pbkdf2MacFun): string {
  return name === 'sha' ? 'sha1' : name;
}

/** Throws when this Node build cannot compute the algorithm (e.g. md4 without OpenSSL legacy). */
export function assertSupported(alg: HashAlgorithm): void {
  const digest = alg.name === 'pbkdf2' ? digestName(alg.mac_fun) : alg.name === 'plain' || alg.name === 'bcrypt' ? undefined : digestName(alg.name);
  if (digest && !getHashes().includes(digest)) throw new Error(`hash ${digest} is not available in this Node.js build`);
  if (alg.name === 'pbkdf2' && !(Number.isInteger(alg.iterations) && alg.iterations > 0)) throw new Error('pbkdf2 iterations must be a positive integer');
}

/** A salt as EMQX makes one: 32 hex characters; none for `plain`; bcrypt keeps it in the hash. */
export function generateSalt(alg: HashAlgorithm): string {
  if (alg.name === 'plain' || alg.name === 'bcrypt') return '';
  if (alg.name !== 'pbkdf2' && alg.salt_position === 'disable') return '';
  return randomBytes(16).toString('hex');
}

function simpleHash(name: SimpleHashName, data: Buffer): string {
  if (name === 'plain') return data.toString('utf8');
  return createHash(digestName(name)).update(data).digest('hex');
}

function salted(pos: SaltPosition, salt: string, password: Buffer): Buffer {
  if (pos === 'disable' || salt === '') return password;
  const s = Buffer.from(salt, 'utf8');
  return pos === 'prefix' ? Buffer.concat([s, password]) : Buffer.concat([password, s]);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Hash a new password; returns what to store. */
export async function hashPassword(alg: HashAlgorithm, password: string): Promise<{ password_hash: string; salt: string }> {
  const pw = Buffer.from(password, 'utf8');
  switch (alg.name) {
    case 'bcrypt': {
      const hash = await bcrypt.hash(password, await bcrypt.genSalt(alg.salt_rounds ?? 10));
      // EMQX keeps the bcrypt hash as the salt too.
      return { password_hash: hash, salt: hash };
    }
    case 'pbkdf2': {
      const salt = generateSalt(alg);
      return { password_hash: await derivePbkdf2(alg, pw, salt), salt };
    }
    default: {
      const salt = generateSalt(alg);
      return { password_hash: simpleHash(alg.name, salted(alg.salt_position, salt, pw)), salt };
    }
  }
}

async function derivePbkdf2(alg: { mac_fun: Pbkdf2MacFun; iterations: number; dk_length?: number }, pw: Buffer, salt: string): Promise<string> {
  const digest = digestName(alg.mac_fun);
  const len = alg.dk_length ?? createHash(digest).digest().length;
  return (await pbkdf2Async(pw, Buffer.from(salt, 'utf8'), alg.iterations, len, digest)).toString('hex');
}

/** Constant-time comparison of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Check a password against a stored hash and salt. Hex digests compare case-insensitively.
 * Never throws for bad input: an unusable record or a password bcrypt cannot take is `false`.
 */
export async function checkPassword(alg: HashAlgorithm, stored: { password_hash: string; salt?: string }, password: Buffer): Promise<boolean> {
  const salt = stored.salt ?? '';
  try {
    switch (alg.name) {
      case 'bcrypt': {
        let text: string;
        try {
          text = utf8.decode(password);
        } catch {
          return false; // bcrypt works on text; invalid UTF-8 must not collapse onto U+FFFD
        }
        return /^\$2[abxy]?\$\d\d\$/.test(stored.password_hash) && (await bcrypt.compare(text, stored.password_hash));
      }
      case 'pbkdf2':
        return safeEqual(await derivePbkdf2(alg, password, salt), stored.password_hash.toLowerCase());
      case 'plain':
        return safeEqual(salted(alg.salt_position, salt, password).toString('latin1'), Buffer.from(stored.password_hash, 'utf8').toString('latin1'));
      default:
        return safeEqual(simpleHash(alg.name, salted(alg.salt_position, salt, password)), stored.password_hash.toLowerCase());
    }
  } catch {
    return false;
  }
}
