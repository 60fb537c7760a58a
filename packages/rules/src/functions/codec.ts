/** Hashes, compression and encodings: md5/sha/sha256/hash, gzip/zip/zip_compress, base64, JSON. */
import { createHash, getHashes } from 'node:crypto';
import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { RuleEvalError, bytesOf, fromBytes, jsonDecode, jsonEncode, textOf, type Value } from '../runtime/values.js';
import { badarg, def, type FunctionDef } from './registry.js';

function bytes(fn: string, v: Value): Buffer {
  return bytesOf(v) ?? badarg(fn, v, 'a string or binary');
}

/** EMQX hash type names to Node's. */
const HASHES: Record<string, string> = {
  md4: 'md4', md5: 'md5', sha: 'sha1', sha224: 'sha224', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512',
  sha3_224: 'sha3-224', sha3_256: 'sha3-256', sha3_384: 'sha3-384', sha3_512: 'sha3-512',
};

function hash(fn: string, type: string, data: Value): string {
  const algo = HASHES[type];
  if (!algo || !getHashes().includes(algo)) throw new RuleEvalError(`${fn}(): unsupported hash type ${JSON.stringify(type)}`);
  return createHash(algo).update(bytes(fn, data)).digest('hex');
}

function inflate(fn: string, v: Value, f: (b: Buffer) => Buffer): Value {
  try {
    return fromBytes(f(bytes(fn, v)));
  } catch (err) {
    throw new RuleEvalError(`${fn}(): ${(err as Error).message}`, { cause: err });
  }
}

export const hashFunctions: FunctionDef[] = [
  def('md5', 'hash', 1, 'md5(data)', 'MD5 digest, lower-case hex.', ([d]) => hash('md5', 'md5', d)),
  def('sha', 'hash', 1, 'sha(data)', 'SHA-1 digest, lower-case hex.', ([d]) => hash('sha', 'sha', d)),
  def('sha256', 'hash', 1, 'sha256(data)', 'SHA-256 digest, lower-case hex.', ([d]) => hash('sha256', 'sha256', d)),
  def('hash', 'hash', 2, "hash(type, data)", `Digest by name (${Object.keys(HASHES).join(', ')}), lower-case hex.`, ([t, d]) => hash('hash', textOf(t) ?? badarg('hash', t, 'a hash type'), d)),
];

export const compressionFunctions: FunctionDef[] = [
  def('gzip', 'compression', 1, 'gzip(data)', 'Compress with gzip header and checksum.', ([d]) => gzipSync(bytes('gzip', d))),
  def('gunzip', 'compression', 1, 'gunzip(data)', 'Uncompress gzip data.', ([d]) => inflate('gunzip', d, gunzipSync)),
  def('zip', 'compression', 1, 'zip(data)', 'Raw deflate, no header or checksum.', ([d]) => deflateRawSync(bytes('zip', d))),
  def('unzip', 'compression', 1, 'unzip(data)', 'Uncompress raw deflate data.', ([d]) => inflate('unzip', d, inflateRawSync)),
  def('zip_compress', 'compression', 1, 'zip_compress(data)', 'Deflate with zlib header and checksum.', ([d]) => deflateSync(bytes('zip_compress', d))),
  def('zip_uncompress', 'compression', 1, 'zip_uncompress(data)', 'Uncompress zlib data.', ([d]) => inflate('zip_uncompress', d, inflateSync)),
];

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const encodingFunctions: FunctionDef[] = [
  def('base64_encode', 'encoding', 1, 'base64_encode(data)', 'Base64 text of the bytes.', ([d]) => bytes('base64_encode', d).toString('base64')),
  def('base64_decode', 'encoding', 1, 'base64_decode(text)', 'The bytes base64 text encodes.', ([d]) => {
    const t = (textOf(d) ?? badarg('base64_decode', d, 'base64 text')).replace(/\s+/g, '');
    if (t.length % 4 !== 0 || !BASE64.test(t)) return badarg('base64_decode', d, 'valid base64');
    return fromBytes(Buffer.from(t, 'base64'));
  }),
  def('json_encode', 'encoding', 1, 'json_encode(x)', 'JSON text of a value.', ([x]) => jsonEncode(x)),
  def('json_decode', 'encoding', 1, 'json_decode(text)', 'The value JSON text encodes.', ([x]) => jsonDecode(textOf(x) ?? badarg('json_decode', x, 'JSON text'))),
];
