/**
 * `ssl_options` of every TLS listener (MQTT ssl, wss, OCPP wss, QUIC), in EMQX's shape. Fields
 * added after the first release are optional (with defaults filled by `resolveSslOptions`), so
 * configs written for the older, smaller schema stay valid.
 */
import { Type, type Static, type TNumber } from '@sinclair/typebox';

/**
 * A duration in milliseconds, written like `30s` or `5m` in the gateway's YAML. The key is the
 * broker core's human-value marker (`FORMAT_KEY`), spelled out here because this library depends
 * on no other Junction package.
 */
function Duration(opts: { default: string; minimum?: number; description: string }): TNumber {
  return Type.Number({ minimum: 0, ...opts, 'x-junction-format': 'duration' });
}

export const TLS_VERSIONS = ['tlsv1.3', 'tlsv1.2'] as const;

export const ocspOptionsSchema = Type.Object(
  {
    enable_ocsp_stapling: Type.Boolean({ default: false, description: 'Staple an OCSP response for the server certificate to handshakes of clients that ask for one.' }),
    responder_url: Type.Optional(Type.String({ description: 'OCSP responder URL; default: the OCSP URL in the server certificate (Authority Information Access).' })),
    issuer_pem: Type.Optional(Type.String({ description: 'PEM file of the server certificate\'s issuer; default: the next certificate in certfile, else the matching one in cacertfile.' })),
    refresh_interval: Duration({ default: '5m', minimum: 1000, description: 'How often the stapled response is fetched again (sooner when its nextUpdate comes first).' }),
    refresh_http_timeout: Duration({ default: '15s', minimum: 1, description: 'Timeout of a request to the OCSP responder.' }),
  },
  { additionalProperties: false, description: 'OCSP stapling (EMQX `ssl_options.ocsp`).' },
);
export type OcspOptions = Static<typeof ocspOptionsSchema>;

export const crlCacheOptionsSchema = Type.Object(
  {
    refresh_interval: Duration({ default: '15m', minimum: 1000, description: 'How often CRLs from distribution points are fetched again.' }),
    http_timeout: Duration({ default: '15s', minimum: 1, description: 'Timeout of a CRL download.' }),
  },
  { additionalProperties: false, description: 'CRLs fetched from the CRL distribution points of client certificates (EMQX `crl_cache`, here per listener).' },
);
export type CrlCacheOptions = Static<typeof crlCacheOptionsSchema>;

export const pskOptionsSchema = Type.Object(
  {
    enable: Type.Boolean({ default: false, description: 'Accept TLS 1.2 pre-shared-key handshakes (PSK cipher suites are added to `ciphers`).' }),
    init_file: Type.Optional(Type.String({ description: 'File of `identity<separator>hexkey` lines; reloaded when it changes.' })),
    separator: Type.String({ default: ':', minLength: 1, description: 'Separator between identity and key in init_file.' }),
    identity_hint: Type.Optional(Type.String({ description: 'PSK identity hint sent to clients.' })),
  },
  { additionalProperties: false, description: 'TLS-PSK (EMQX `psk_authentication`, here per listener).' },
);
export type PskOptions = Static<typeof pskOptionsSchema>;

export const sslOptionsSchema = Type.Object(
  {
    certfile: Type.String({ description: 'PEM server certificate (chain) file.' }),
    keyfile: Type.String({ description: 'PEM private key file.' }),
    password: Type.Optional(Type.String({ description: 'Passphrase of an encrypted keyfile.' })),
    cacertfile: Type.Optional(Type.String({ description: 'PEM CA bundle used to verify client certificates.' })),
    verify: Type.Union([Type.Literal('verify_none'), Type.Literal('verify_peer')], { default: 'verify_none', description: 'verify_peer asks clients for a certificate signed by cacertfile.' }),
    fail_if_no_peer_cert: Type.Boolean({ default: false, description: 'With verify_peer: refuse clients without a certificate.' }),
    depth: Type.Optional(Type.Integer({ default: 10, minimum: 0, description: 'Most intermediate CA certificates allowed between a client certificate and the root.' })),
    versions: Type.Array(Type.Union([Type.Literal('tlsv1.2'), Type.Literal('tlsv1.3')]), { default: ['tlsv1.3', 'tlsv1.2'], minItems: 1, description: 'TLS versions accepted.' }),
    ciphers: Type.Optional(Type.String({ description: 'OpenSSL cipher list (TLS 1.2 suites and TLS 1.3 `TLS_*` suites); default: Node\'s.' })),
    honor_cipher_order: Type.Optional(Type.Boolean({ default: true, description: 'Pick the cipher by the server\'s order rather than the client\'s.' })),
    enable_crl_check: Type.Optional(Type.Boolean({ default: false, description: 'Check client certificates against CRLs (crlfile and the certificates\' distribution points); a revoked one, or one without a CRL for its issuer, is refused.' })),
    crlfile: Type.Optional(Type.String({ description: 'PEM or DER file of one or more CRLs; reloaded when it changes.' })),
    crl_cache: Type.Optional(crlCacheOptionsSchema),
    ocsp: Type.Optional(ocspOptionsSchema),
    psk: Type.Optional(pskOptionsSchema),
    reload_interval: Type.Optional(Duration({ default: '1m', description: 'How often certificate, key, CA, CRL and PSK files are checked for changes (besides file-system notifications); 0: only notifications and reload().' })),
  },
  {
    additionalProperties: false,
    description: 'TLS settings (EMQX `ssl_options`): server certificate and key, client certificate verification, CRL, OCSP stapling, PSK; files are reloaded when they change.',
  },
);
export type SslOptions = Static<typeof sslOptionsSchema>;

/** `ssl_options` with every default filled in. */
export interface ResolvedSslOptions extends Omit<SslOptions, 'depth' | 'honor_cipher_order' | 'enable_crl_check' | 'crl_cache' | 'ocsp' | 'psk' | 'reload_interval'> {
  depth: number;
  honor_cipher_order: boolean;
  enable_crl_check: boolean;
  crl_cache: CrlCacheOptions;
  ocsp: OcspOptions;
  psk: PskOptions;
  reload_interval: number;
}

/** Fills the defaults of the optional fields (for callers that bypass the gateway's loader). */
export function resolveSslOptions(o: SslOptions): ResolvedSslOptions {
  return {
    ...o,
    verify: o.verify ?? 'verify_none',
    fail_if_no_peer_cert: o.fail_if_no_peer_cert ?? false,
    versions: o.versions?.length ? o.versions : [...TLS_VERSIONS],
    depth: o.depth ?? 10,
    honor_cipher_order: o.honor_cipher_order ?? true,
    enable_crl_check: o.enable_crl_check ?? false,
    crl_cache: { refresh_interval: 900_000, http_timeout: 15_000, ...o.crl_cache },
    ocsp: { enable_ocsp_stapling: false, refresh_interval: 300_000, refresh_http_timeout: 15_000, ...o.ocsp },
    psk: { enable: false, separator: ':', ...o.psk },
    reload_interval: o.reload_interval ?? 60_000,
  };
}
