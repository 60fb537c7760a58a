/** TLS-PSK identities: `identity<separator>hexkey` lines, as a `pskCallback` table. */
import { readFileSync } from 'node:fs';
import { TlsConfigError } from './errors.js';

/** Parses an identities file; blank lines and `#` comments are skipped, bad lines throw. */
export function parsePskFile(text: string, separator = ':', source = 'psk file'): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  text.split(/\r?\n/).forEach((line, n) => {
    const l = line.trim();
    if (l === '' || l.startsWith('#')) return;
    const at = l.lastIndexOf(separator);
    const id = at > 0 ? l.slice(0, at) : '';
    const hex = at > 0 ? l.slice(at + separator.length).trim() : '';
    if (!id || !/^(?:[0-9a-fA-F]{2})+$/.test(hex)) throw new TlsConfigError(`${source}:${n + 1}: expected identity${separator}hexkey`);
    out.set(id, Buffer.from(hex, 'hex'));
  });
  return out;
}

export function loadPskFile(path: string, separator: string): Map<string, Buffer> {
  return parsePskFile(readFileSync(path, 'utf8'), separator, path);
}

/** TLS 1.2 PSK cipher suites offered when PSK is enabled (EMQX's list, best first). */
export const PSK_CIPHERS = [
  'RSA-PSK-AES256-GCM-SHA384',
  'RSA-PSK-AES128-GCM-SHA256',
  'RSA-PSK-AES256-CBC-SHA384',
  'RSA-PSK-AES128-CBC-SHA256',
  'PSK-AES256-GCM-SHA384',
  'PSK-AES128-GCM-SHA256',
  'PSK-AES256-CBC-SHA384',
  'PSK-AES128-CBC-SHA256',
].join(':');
