/**
 * SCRAM (RFC 5802, RFC 7677 for SHA-256) primitives: stored credentials and the server side of
 * the exchange. Pure functions and a small state machine; the MQTT part is in authn/scram.ts.
 */
import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

export type ScramAlgorithm = 'sha256' | 'sha512';

export interface ScramCredentials {
  readonly algorithm: ScramAlgorithm;
  readonly iterations: number;
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

const hmac = (alg: ScramAlgorithm, key: Buffer, data: string | Buffer) => createHmac(alg, key).update(data).digest();
const hash = (alg: ScramAlgorithm, data: Buffer) => createHash(alg).update(data).digest();

/** Normalise a password before hashing. SASLprep (RFC 4013) is approximated by NFKC. */
export function saslPrep(password: string): string {
  return password.normalize('NFKC');
}

/** Derive what the server stores from a password (RFC 5802 §3). */
export async function deriveScramCredentials(alg: ScramAlgorithm, password: string, iterations: number, salt: Buffer = randomBytes(16)): Promise<ScramCredentials> {
  const salted = await pbkdf2Async(saslPrep(password), salt, iterations, alg === 'sha256' ? 32 : 64, alg);
  const clientKey = hmac(alg, salted, 'Client Key');
  return { algorithm: alg, iterations, salt, storedKey: hash(alg, clientKey), serverKey: hmac(alg, salted, 'Server Key') };
}

/** Parse `k=v,k=v` attributes; a repeated or malformed attribute is an error. */
function attributes(text: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const part of text.split(',')) {
    const m = /^([A-Za-z])=(.*)$/s.exec(part);
    if (!m || out.has(m[1]!)) return undefined;
    out.set(m[1]!, m[2]!);
  }
  return out;
}

/** `saslname` decoding: `=2C` is `,`, `=3D` is `=`; any other `=` is invalid (RFC 5802 §5.1). */
function decodeName(s: string): string | undefined {
  if (/=(?!2C|3D)/.test(s)) return undefined;
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

export type ScramStep =
  | { kind: 'challenge'; serverFirst: string; finish(clientFinal: string): ScramStep }
  | { kind: 'success'; serverFinal: string; username: string }
  | { kind: 'failure'; reason: 'malformed' | 'unknown_user' | 'bad_proof' | 'channel_binding' };

export interface ScramServerOptions {
  algorithm: ScramAlgorithm;
  /** Iteration count announced for unknown users (the configured one, so they look alike). */
  iterations: number;
  /** Credentials for a user name, or undefined when there is no such user. */
  lookup(username: string): ScramCredentials | undefined;
  /** Server nonce; random by default (tests inject RFC 7677's). */
  nonce?: () => string;
}

/**
 * Start an exchange from the client-first-message. Unknown users get a challenge with a fake
 * salt and fail at the proof, so the exchange does not reveal which user names exist.
 */
export function scramServerFirst(clientFirst: string, opts: ScramServerOptions): ScramStep {
  // gs2-header: "n,," or "y,," (no channel binding); "p=..." needs channel binding we do not offer.
  const m = /^([nyp])(=[^,]*)?,(a=[^,]*)?,(.*)$/s.exec(clientFirst);
  if (!m) return { kind: 'failure', reason: 'malformed' };
  if (m[1] === 'p') return { kind: 'failure', reason: 'channel_binding' };
  if (m[3] !== undefined) return { kind: 'failure', reason: 'malformed' }; // authzid unsupported
  const gs2Header = clientFirst.slice(0, clientFirst.length - m[4]!.length);
  const bare = m[4]!;
  const attrs = attributes(bare);
  const rawName = attrs?.get('n');
  const clientNonce = attrs?.get('r');
  if (!attrs || attrs.has('m') || rawName === undefined || !clientNonce || /[^\x21-\x2b\x2d-\x7e]/.test(clientNonce)) return { kind: 'failure', reason: 'malformed' };
  const username = decodeName(rawName);
  if (username === undefined || username === '') return { kind: 'failure', reason: 'malformed' };

  const creds = opts.lookup(username);
  const alg = opts.algorithm;
  const effective: ScramCredentials = creds && creds.algorithm === alg ? creds : fakeCredentials(alg, username, opts.iterations);
  const nonce = clientNonce + (opts.nonce ? opts.nonce() : randomBytes(18).toString('base64'));
  const serverFirst = `r=${nonce},s=${effective.salt.toString('base64')},i=${effective.iterations}`;

  return {
    kind: 'challenge',
    serverFirst,
    finish(clientFinal: string): ScramStep {
      const p = clientFinal.lastIndexOf(',p=');
      if (p < 0) return { kind: 'failure', reason: 'malformed' };
      const withoutProof = clientFinal.slice(0, p);
      const fa = attributes(clientFinal);
      const proof = fa?.get('p');
      if (!fa || fa.get('c') !== Buffer.from(gs2Header, 'utf8').toString('base64') || fa.get('r') !== nonce || !proof) {
        return { kind: 'failure', reason: fa?.get('c') !== undefined && fa.get('r') === nonce ? 'channel_binding' : 'malformed' };
      }
      const clientProof = Buffer.from(proof, 'base64');
      const authMessage = `${bare},${serverFirst},${withoutProof}`;
      const clientSignature = hmac(alg, effective.storedKey, authMessage);
      if (clientProof.length !== clientSignature.length) return { kind: 'failure', reason: 'bad_proof' };
      const clientKey = Buffer.alloc(clientProof.length);
      for (let i = 0; i < clientKey.length; i++) clientKey[i] = clientProof[i]! ^ clientSignature[i]!;
      const ok = timingSafeEqual(hash(alg, clientKey), effective.storedKey);
      if (!ok || !creds) return { kind: 'failure', reason: creds ? 'bad_proof' : 'unknown_user' };
      const serverSignature = hmac(alg, effective.serverKey, authMessage);
      return { kind: 'success', serverFinal: `v=${serverSignature.toString('base64')}`, username };
    },
  };
}

const fakeSecret = randomBytes(32);

/** Stable per-name fake credentials, so repeated probes for an unknown user look the same. */
function fakeCredentials(alg: ScramAlgorithm, username: string, iterations: number): ScramCredentials {
  const seed = createHmac('sha256', fakeSecret).update(username).digest();
  return { algorithm: alg, iterations, salt: seed.subarray(0, 16), storedKey: randomBytes(alg === 'sha256' ? 32 : 64), serverKey: randomBytes(alg === 'sha256' ? 32 : 64) };
}
