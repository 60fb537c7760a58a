/**
 * Peer addresses and CIDR ranges (`{ipaddr, "10.0.0.0/8"}`, banned `peerhost_net`). Addresses are
 * compared as numbers; an IPv4-mapped IPv6 address (`::ffff:10.1.2.3`) is treated as IPv4.
 */

/** The host part of `host:port`, `[v6]:port` or a bare host. */
export function peerHost(peer: string): string {
  if (peer.startsWith('[')) {
    const end = peer.indexOf(']');
    return end > 0 ? peer.slice(1, end) : peer;
  }
  const colons = peer.split(':').length - 1;
  if (colons === 1) return peer.slice(0, peer.indexOf(':'));
  // More than one colon without brackets: a bare IPv6 address (with no port).
  return peer;
}

/** The port part of `host:port` or `[v6]:port`, if any. */
export function peerPort(peer: string): string | undefined {
  if (peer.startsWith('[')) {
    const m = /\]:(\d+)$/.exec(peer);
    return m?.[1];
  }
  const colons = peer.split(':').length - 1;
  return colons === 1 ? peer.slice(peer.indexOf(':') + 1) : undefined;
}

export interface ParsedIp {
  readonly v: 4 | 6;
  readonly n: bigint;
}

/** Parse an IPv4 or IPv6 address; IPv4-mapped IPv6 comes back as IPv4. Undefined if invalid. */
export function parseIp(text: string): ParsedIp | undefined {
  const s = text.trim();
  const zone = s.indexOf('%');
  const addr = zone >= 0 ? s.slice(0, zone) : s;
  if (addr.includes(':')) {
    const n = parseV6(addr);
    if (n === undefined) return undefined;
    if (n >> 32n === 0xffffn) return { v: 4, n: n & 0xffffffffn };
    return { v: 6, n };
  }
  const n = parseV4(addr);
  return n === undefined ? undefined : { v: 4, n };
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = (n << 8n) | BigInt(v);
  }
  return n;
}

function parseV6(s: string): bigint | undefined {
  let tailV4: bigint | undefined;
  let text = s;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  let n = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  if (tailV4 !== undefined) n = (n & ~0xffffffffn) | tailV4;
  return n;
}

export interface Cidr {
  readonly v: 4 | 6;
  readonly base: bigint;
  readonly mask: bigint;
  /** As written, for listing and logs. */
  readonly text: string;
}

/** Parse `10.0.0.0/8`, `2001:db8::/32` or a single address (a /32 or /128). Throws on bad input. */
export function parseCidr(text: string): Cidr {
  const [addr, bitsText] = text.trim().split('/', 2) as [string, string | undefined];
  const ip = parseIp(addr);
  if (!ip) throw new Error(`invalid address ${JSON.stringify(text)}`);
  const width = ip.v === 4 ? 32 : 128;
  // A mapped address written with an IPv6 prefix length: shift the length into IPv4 terms.
  let bits = bitsText === undefined ? width : Number(bitsText);
  if (bitsText !== undefined && addr.includes(':') && ip.v === 4) bits -= 96;
  if (!Number.isInteger(bits) || bits < 0 || bits > width || (bitsText !== undefined && !/^\d+$/.test(bitsText))) {
    throw new Error(`invalid prefix length in ${JSON.stringify(text)}`);
  }
  const all = (1n << BigInt(width)) - 1n;
  const mask = bits === 0 ? 0n : (all << BigInt(width - bits)) & all;
  return { v: ip.v, base: ip.n & mask, mask, text: text.trim() };
}

export function cidrContains(cidr: Cidr, ip: ParsedIp | undefined): boolean {
  return ip !== undefined && ip.v === cidr.v && (ip.n & cidr.mask) === cidr.base;
}
