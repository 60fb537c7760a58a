import type { ConnectInfo } from './contract.js';

/**
 * Challenge/response authentication (MQTT 5 enhanced authentication, SCRAM and the like),
 * protocol-neutral: the MQTT engine carries the steps in AUTH packets; other adapters may too.
 */
export type EnhancedAuthStep =
  /** Send `authData` to the client and wait for its answer. */
  | { result: 'continue'; authData?: Buffer; next(authData: Buffer | undefined): Promise<EnhancedAuthStep> }
  | { result: 'allow'; authData?: Buffer; isSuperuser?: boolean; attrs?: Record<string, unknown> }
  | { result: 'deny'; reason: 'bad_credentials' | 'not_authorized' | 'banned' | 'server_unavailable'; message?: string };

export interface EnhancedAuthenticator {
  /** The Authentication Method name, e.g. `SCRAM-SHA-256`. */
  readonly method: string;
  /** First step, from the CONNECT (or a re-authentication) with its authentication data. */
  start(info: ConnectInfo): Promise<EnhancedAuthStep>;
}

/** Authenticators by method name. */
export class EnhancedAuthRegistry {
  private readonly byMethod = new Map<string, EnhancedAuthenticator>();

  register(a: EnhancedAuthenticator): () => void {
    this.byMethod.set(a.method, a);
    return () => {
      if (this.byMethod.get(a.method) === a) this.byMethod.delete(a.method);
    };
  }

  get(method: string): EnhancedAuthenticator | undefined {
    return this.byMethod.get(method);
  }
}
