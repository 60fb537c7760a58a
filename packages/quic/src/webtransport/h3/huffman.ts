/**
 * The Huffman code of HPACK, which QPACK reuses (RFC 7541 §5.2 and Appendix B; RFC 9204 §4.1.2).
 * The code is canonical: codes of one length are consecutive and ordered by symbol, lengths grow.
 * So the code lengths alone define it, and decoding walks lengths, not a tree.
 */
import { H3, H3Error } from './errors.js';

/**
 * Code length of symbols 0..256 (256 is EOS), RFC 7541 Appendix B, one character per symbol:
 * 'A' stands for 5 bits, 'B' for 6, and so on.
 */
const LENGTHS =
  'ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWVZ';

const EOS = 256;
const MAX_LENGTH = 30;

interface Canonical {
  /** Symbols ordered by (code length, symbol). */
  readonly symbols: Uint16Array;
  /** Per length: how many codes have it, the first code of it, and where its symbols start. */
  readonly count: Uint32Array;
  readonly first: Float64Array;
  readonly start: Uint32Array;
}

function build(): Canonical {
  const lengths = Array.from(LENGTHS, (c) => c.charCodeAt(0) - 65 + 5);
  const symbols = Uint16Array.from(
    lengths.map((_, s) => s).sort((a, b) => lengths[a]! - lengths[b]! || a - b),
  );
  const count = new Uint32Array(MAX_LENGTH + 1);
  for (const l of lengths) count[l]!++;
  const first = new Float64Array(MAX_LENGTH + 1);
  const start = new Uint32Array(MAX_LENGTH + 1);
  let code = 0;
  let index = 0;
  for (let len = 1; len <= MAX_LENGTH; len++) {
    first[len] = code;
    start[len] = index;
    code = (code + count[len]!) * 2;
    index += count[len]!;
  }
  return { symbols, count, first, start };
}

const table = build();

/** Decode a Huffman-coded string literal; throws QPACK_DECOMPRESSION_FAILED on a bad code. */
export function huffmanDecode(data: Uint8Array): Buffer {
  const out: number[] = [];
  let code = 0;
  let len = 0;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      len++;
      const offset = code - table.first[len]!;
      if (offset < table.count[len]!) {
        const symbol = table.symbols[table.start[len]! + offset]!;
        // §5.2: an EOS symbol inside the string is a decoding error.
        if (symbol === EOS) throw new H3Error(H3.QPACK_DECOMPRESSION_FAILED, 'Huffman EOS in a string');
        out.push(symbol);
        code = 0;
        len = 0;
      } else if (len >= MAX_LENGTH) {
        throw new H3Error(H3.QPACK_DECOMPRESSION_FAILED, 'invalid Huffman code');
      }
    }
  }
  // §5.2: padding is the most significant bits of EOS (all ones), shorter than 8 bits.
  if (len > 7 || code !== 2 ** len - 1) throw new H3Error(H3.QPACK_DECOMPRESSION_FAILED, 'invalid Huffman padding');
  return Buffer.from(out);
}

/** Huffman-encode `data` (for tests and clients; the server sends plain literals). */
export function huffmanEncode(data: Uint8Array): Buffer {
  const codes = codeTable();
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of data) {
    const { code, len } = codes[byte]!;
    for (let b = len - 1; b >= 0; b--) {
      acc = (acc << 1) | (Math.floor(code / 2 ** b) & 1);
      if (++bits === 8) {
        out.push(acc);
        acc = 0;
        bits = 0;
      }
    }
  }
  if (bits > 0) out.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff);
  return Buffer.from(out);
}

let codesCache: { code: number; len: number }[] | undefined;
function codeTable(): { code: number; len: number }[] {
  if (codesCache) return codesCache;
  const codes: { code: number; len: number }[] = [];
  for (let len = 1; len <= MAX_LENGTH; len++) {
    for (let k = 0; k < table.count[len]!; k++) codes[table.symbols[table.start[len]! + k]!] = { code: table.first[len]! + k, len };
  }
  codesCache = codes;
  return codes;
}
