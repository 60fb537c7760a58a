/**
 * The client's address behind reverse proxies. Proxy headers are believed only when the TCP peer
 * is a trusted proxy; X-Forwarded-For is walked from the right (the hop nearest to us), skipping
 * trusted proxies, so a client cannot forge its address by sending the header itself.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { ConfigError } from '@junction/broker-core';

/** A set of trusted proxy addresses and CIDR ranges. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  /** Throws `ConfigError` (at `path`) for an entry that is neither an address nor a CIDR range. */
  constructor(entries: readonly string[], path = 'trusted_proxies') {
    this.empty = entries.length === 0;
    entries.forEach((raw, i) => {
      const entry = raw.trim();
      const [addr = '', bits, extra] = entry.split('/');
      const family = isIP(addr);
      const prefix = bits === undefined ? undefined : Number(bits);
      const max = family === 6 ? 128 : 32;
      if (family === 0 || extra !== undefined || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max && bits !== ''))) {
        throw new ConfigError(`${path}[${i}]`, `expected an IP address or CIDR range such as "10.0.0.0/8" or "::1", got ${JSON.stringify(raw)}`);
      }
      const type = family === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.list.addAddress(addr, type);
      else this.list.addSubnet(addr, prefix, type);
    });
  }

  has(address: string): boolean {
    if (this.empty) return false;
    const addr = unmapIPv4(address);
    const family = isIP(addr);
    if (family === 0) return false;
    return this.list.check(addr, family === 6 ? 'ipv6' : 'ipv4');
  }
}

export interface PeerHeaders {
  /** e.g. `x-forwarded-for`; empty: not read. */
  readonly addressHeader: string;
  /** e.g. `x-forwarded-port`; empty: not read. */
  readonly portHeader: string;
}

/**
 * `host:port` of the client, as ConnectInfo.peer wants it: the TCP peer, or the address a trusted
 * proxy reports (the configured address header, else X-Real-IP) with the port it reports, if any.
 */
export function resolvePeer(req: IncomingMessage, trusted: TrustedProxies, headers: PeerHeaders): string {
  const tcpAddress = req.socket.remoteAddress ?? '';
  const tcpPort = req.socket.remotePort ?? 0;
  if (!trusted.has(tcpAddress)) return `${tcpAddress}:${tcpPort}`;

  let address: string | undefined;
  const list = headerValue(req, headers.addressHeader);
  if (list !== undefined) {
    // Right to left: each trusted hop vouches for the one before it.
    const hops = list.split(',').map((h) => stripPort(h.trim())).filter((h) => h !== '');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (isIP(hop) === 0) break; // "unknown", an obfuscated name: nothing further is believable
      address = hop;
      if (!trusted.has(hop)) break;
    }
  } else {
    const real = headerValue(req, 'x-real-ip')?.trim();
    if (real && isIP(stripPort(real)) !== 0) address = stripPort(real);
  }
  if (address === undefined) return `${tcpAddress}:${tcpPort}`;
  const portText = headerValue(req, headers.portHeader)?.split(',').at(-1)?.trim();
  const port = portText && /^\d{1,5}$/.test(portText) && Number(portText) <= 65535 ? Number(portText) : tcpPort;
  return `${address}:${port}`;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  if (!name) return undefined;
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

/** `1.2.3.4:5678` -> `1.2.3.4`, `[::1]:80` -> `::1`; a bare IPv6 address is left alone. */
function stripPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed) return bracketed[1]!;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(hop);
  return v4 ? v4[1]! : hop;
}

/** `::ffff:127.0.0.1` (a dual-stack socket's IPv4 peer) -> `127.0.0.1`. */
function unmapIPv4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
