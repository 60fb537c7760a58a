/**
 * CoAP Content-Format (RFC 7252 §5.10.3, §12.3; IANA "CoAP Content-Formats") <-> the MQTT 5
 * Content Type property. Registered formats map to their media type; any other number travels
 * as its decimal string and comes back as the same number, so nothing is lost either way.
 */
const REGISTERED: ReadonlyArray<readonly [number, string]> = [
  [0, 'text/plain;charset=utf-8'],
  [16, 'application/cose;cose-type="cose-encrypt0"'],
  [17, 'application/cose;cose-type="cose-mac0"'],
  [18, 'application/cose;cose-type="cose-sign1"'],
  [40, 'application/link-format'],
  [41, 'application/xml'],
  [42, 'application/octet-stream'],
  [47, 'application/exi'],
  [50, 'application/json'],
  [51, 'application/json-patch+json'],
  [52, 'application/merge-patch+json'],
  [60, 'application/cbor'],
  [61, 'application/cwt'],
  [62, 'application/multipart-core'],
  [63, 'application/cbor-seq'],
  [110, 'application/senml+json'],
  [111, 'application/sensml+json'],
  [112, 'application/senml+cbor'],
  [113, 'application/sensml+cbor'],
  [256, 'application/coap-group+json'],
  [432, 'application/td+json'],
  [11542, 'application/vnd.oma.lwm2m+tlv'],
  [11543, 'application/vnd.oma.lwm2m+json'],
  [11544, 'application/vnd.oma.lwm2m+cbor'],
];

const BY_NUMBER = new Map(REGISTERED);
const BY_TYPE = new Map<string, number>([...REGISTERED.map(([n, t]) => [normalise(t), n] as const), ['text/plain', 0]]);

/** Media types compare case-insensitively and without spaces around parameters. */
function normalise(contentType: string): string {
  return contentType.toLowerCase().replace(/\s*;\s*/g, ';').trim();
}

/** The MQTT content type for a Content-Format number. */
export function contentTypeFor(format: number): string {
  return BY_NUMBER.get(format) ?? String(format);
}

/** The Content-Format number for an MQTT content type, or undefined when CoAP has none. */
export function contentFormatFor(contentType: string | undefined): number | undefined {
  if (contentType === undefined) return undefined;
  const known = BY_TYPE.get(normalise(contentType));
  if (known !== undefined) return known;
  if (/^\d{1,5}$/.test(contentType) && Number(contentType) <= 0xffff) return Number(contentType);
  return undefined;
}
