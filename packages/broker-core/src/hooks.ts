import type { CloseReason, ConnectInfo, Delivery, Subscription } from './contract.js';
import type { Message } from './message.js';

/** The client as hooks see it: identity, not connection internals. */
export interface ClientInfo {
  readonly clientId: string;
  readonly username?: string;
  readonly protocol: string;
  readonly peer: string;
  readonly listener?: string;
  /** Set by an authenticator: bypasses authorization. */
  isSuperuser?: boolean;
  /** Free-form attributes an authenticator attaches (e.g. JWT ACL claims). */
  attrs?: Record<string, unknown>;
}

export type AuthnResult =
  | { result: 'allow'; isSuperuser?: boolean; attrs?: Record<string, unknown> }
  | { result: 'deny'; reason: 'bad_credentials' | 'not_authorized' | 'banned' | 'server_unavailable'; message?: string }
  /** This authenticator has no opinion: ask the next one. */
  | { result: 'ignore' };

export type AuthzAction = 'publish' | 'subscribe';
export interface AuthzRequest {
  client: ClientInfo;
  action: AuthzAction;
  topic: string;
  qos: 0 | 1 | 2;
  retain?: boolean;
  /** Set by the interceptor that decided: which of its sources did (`file`, `cache`, ...). */
  source?: string;
}
export type AuthzResult = 'allow' | 'deny' | 'ignore';

/** How an authentication ended, for `client.check_authn_complete`. */
export interface AuthnOutcome {
  /** `success`, or the refusal's reason (`not_authorized`, `bad_username_or_password`, ...). */
  reason: string;
  isSuperuser: boolean;
  isAnonymous: boolean;
}

export type DropReason = 'no_subscribers' | 'queue_full' | 'expired' | 'not_authorized' | 'too_large' | 'denied_by_hook' | 'session_ended';

/** Interceptors, present tense: may change or deny. Run in registration order. */
export interface InterceptorMap {
  /** Before any authentication, also for clients an enhanced authenticator already accepted:
   * bans, flapping, connection limits. The first `deny` refuses the client. */
  'client.connect': (info: ConnectInfo) => AuthnResult | Promise<AuthnResult>;
  /** First non-`ignore` result wins; when all ignore, the client is allowed. */
  'client.authenticate': (info: ConnectInfo) => AuthnResult | Promise<AuthnResult>;
  /** First non-`ignore` result wins; when all ignore, the action is allowed. */
  'client.authorize': (req: AuthzRequest) => AuthzResult | Promise<AuthzResult>;
  /** Return the (possibly changed) message to go on, or null to drop it. */
  'message.publish': (msg: Message) => Message | null;
}

/** Notifications, past tense: observe only. */
export interface NotificationMap {
  'client.connected': (client: ClientInfo, info: ConnectInfo) => void;
  'client.disconnected': (client: ClientInfo, reason: CloseReason) => void;
  /** The CONNECT was answered: `success`, or the refusal's reason. */
  'client.connack': (info: ConnectInfo, result: 'success' | string) => void;
  /** The authentication chain decided (not for clients refused earlier, e.g. banned). */
  'client.check_authn_complete': (info: ConnectInfo, outcome: AuthnOutcome) => void;
  /** An authorization check decided (superusers skip authorization). `source` as set by the
   * deciding interceptor; `default` when none decided. */
  'client.check_authz_complete': (req: AuthzRequest, result: 'allow' | 'deny', source: string) => void;
  'session.created': (client: ClientInfo) => void;
  'session.resumed': (client: ClientInfo) => void;
  'session.takenover': (client: ClientInfo) => void;
  'session.discarded': (client: ClientInfo) => void;
  'session.terminated': (clientId: string, why: 'expired' | 'discarded' | 'clean') => void;
  'session.subscribed': (client: ClientInfo, sub: Subscription) => void;
  'session.unsubscribed': (client: ClientInfo, filter: string) => void;
  'message.delivered': (client: ClientInfo, d: Delivery) => void;
  'message.acked': (client: ClientInfo, msg: Message) => void;
  'message.dropped': (msg: Message, reason: DropReason, clientId?: string) => void;
}

export type InterceptorName = keyof InterceptorMap;
export type NotificationName = keyof NotificationMap;

/**
 * The hook registry. Handlers are stored in plain arrays so the hot path can test
 * `hooks.has(name)` (an array length) before doing any work for a hook.
 */
export class Hooks {
  private readonly interceptors: { [K in InterceptorName]: InterceptorMap[K][] } = {
    'client.connect': [],
    'client.authenticate': [],
    'client.authorize': [],
    'message.publish': [],
  };
  private readonly listeners: { [K in NotificationName]: NotificationMap[K][] } = {
    'client.connected': [],
    'client.disconnected': [],
    'client.connack': [],
    'client.check_authn_complete': [],
    'client.check_authz_complete': [],
    'session.created': [],
    'session.resumed': [],
    'session.takenover': [],
    'session.discarded': [],
    'session.terminated': [],
    'session.subscribed': [],
    'session.unsubscribed': [],
    'message.delivered': [],
    'message.acked': [],
    'message.dropped': [],
  };

  /** Add an interceptor; returns a function that removes it. */
  intercept<K extends InterceptorName>(name: K, fn: InterceptorMap[K], opts?: { first?: boolean }): () => void {
    const list = this.interceptors[name] as InterceptorMap[K][];
    if (opts?.first) list.unshift(fn);
    else list.push(fn);
    return () => remove(list, fn);
  }

  /** Add a notification listener; returns a function that removes it. */
  on<K extends NotificationName>(name: K, fn: NotificationMap[K]): () => void {
    const list = this.listeners[name] as NotificationMap[K][];
    list.push(fn);
    return () => remove(list, fn);
  }

  has(name: InterceptorName | NotificationName): boolean {
    return ((this.interceptors as Record<string, unknown[]>)[name] ?? (this.listeners as Record<string, unknown[]>)[name]).length > 0;
  }

  /** The interceptors registered for `name`, in order (for the core's own runners). */
  chain<K extends InterceptorName>(name: K): readonly InterceptorMap[K][] {
    return this.interceptors[name] as InterceptorMap[K][];
  }

  /** Notify listeners; a throwing listener never breaks the broker or other listeners. */
  emit<K extends NotificationName>(name: K, ...args: Parameters<NotificationMap[K]>): void {
    const list = this.listeners[name] as ((...a: unknown[]) => void)[];
    for (let i = 0; i < list.length; i++) {
      try {
        list[i]!(...args);
      } catch (err) {
        this.onListenerError(name, err);
      }
    }
  }

  /** Replaced by the broker to log listener failures. */
  onListenerError: (name: string, err: unknown) => void = () => {};
}

function remove<T>(list: T[], fn: T): void {
  const i = list.indexOf(fn);
  if (i >= 0) list.splice(i, 1);
}
