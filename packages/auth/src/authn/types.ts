import type { AuthnResult, ConnectInfo } from '@junction/broker-core';

/** One step of the authentication chain. */
export interface Authenticator {
  /** EMQX's authenticator id: `password_based:built_in_database`, `jwt`, ... */
  readonly id: string;
  authenticate(info: ConnectInfo): AuthnResult | Promise<AuthnResult>;
  close?(): void | Promise<void>;
}

export const IGNORE: AuthnResult = { result: 'ignore' };

export function denied(reason: 'bad_credentials' | 'not_authorized' | 'server_unavailable', message?: string): AuthnResult {
  return { result: 'deny', reason, message };
}
