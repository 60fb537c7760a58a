/**
 * What authenticators leave in the client's `attrs` for authorization and the session, under
 * fixed keys. Values are plain data (they may be stored with the session one day).
 */
import type { ClientInfo, ConnectInfo } from '@junction/broker-core';
import { peerHost, peerPort } from './address.js';
import type { VarLookup } from './template.js';

export const ATTR = {
  /** `{ rules, expire?, source }`: an ACL from a JWT claim or an HTTP answer (EMQX `acl`). */
  acl: 'acl',
  /** Milliseconds since the epoch: disconnect the client then (JWT exp, HTTP expire_at). */
  expireAt: 'expire_at',
  /** Free attributes from JWT/HTTP (`client_attrs`), used as `${client_attrs.NAME}`. */
  clientAttrs: 'client_attrs',
  /** The identity an authenticator established (SCRAM user, certificate name); rules use it as the user name. */
  username: 'authn_username',
  certCommonName: 'cert_common_name',
  certSubject: 'cert_subject',
} as const;

export interface AclAttr {
  /** The raw ACL as it came (list of rules, or {pub, sub, all}); compiled on first use. */
  readonly rules: unknown;
  /** Seconds since the epoch after which the ACL denies everything (the token's exp). */
  readonly expire?: number;
  readonly source: 'jwt' | 'http';
}

export function attr<T>(client: ClientInfo, key: string): T | undefined {
  return client.attrs?.[key] as T | undefined;
}

/** The user name rules and placeholders use: the authenticated identity, else the CONNECT one. */
export function effectiveUsername(client: ClientInfo): string | undefined {
  const a = client.attrs?.[ATTR.username];
  return typeof a === 'string' ? a : client.username;
}

/** Placeholder values of a connecting client. The password is there only for templates that ask. */
export function connectVars(info: ConnectInfo): VarLookup {
  return (name) => {
    switch (name) {
      case 'clientid':
        return info.clientId;
      case 'username':
        return info.username;
      case 'password':
        return info.password?.toString('utf8');
      case 'peerhost':
        return peerHost(info.peer);
      case 'peerport':
        return peerPort(info.peer);
      case 'protocol':
      case 'proto_name':
        return info.protocol;
      case 'cert_subject':
        return info.peerCert?.subject;
      case 'cert_common_name':
        return info.peerCert?.commonName;
      default:
        return undefined;
    }
  };
}

/** Truthy as EMQX reads `is_superuser`: true, "true", 1, "1". */
export function truthy(v: unknown): boolean {
  return v === true || v === 1 || v === 'true' || v === '1';
}
