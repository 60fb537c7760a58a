import type { AuthzRequest, Hooks } from './hooks.js';
import type { Metrics } from './metrics.js';

/**
 * Run the `client.authorize` chain: the first non-`ignore` verdict wins; all ignoring allows.
 * Synchronous when every interceptor is, so QoS 0 publishing allocates no promise.
 */
export function authorize(hooks: Hooks, req: AuthzRequest, metrics: Metrics): boolean | Promise<boolean> {
  if (req.client.isSuperuser) return true;
  const chain = hooks.chain('client.authorize');
  for (let i = 0; i < chain.length; i++) {
    const r = chain[i]!(req);
    if (r instanceof Promise) return continueAsync(r, chain, i, req).then((ok) => decided(hooks, req, metrics, ok));
    if (r !== 'ignore') return decided(hooks, req, metrics, r === 'allow');
  }
  // Nobody decided: allowed, not counted as an authorization.
  if (hooks.has('client.check_authz_complete')) hooks.emit('client.check_authz_complete', req, 'allow', 'default');
  return true;
}

function decided(hooks: Hooks, req: AuthzRequest, metrics: Metrics, ok: boolean): boolean {
  metrics.counters[ok ? 'authorization.allow' : 'authorization.deny']++;
  if (hooks.has('client.check_authz_complete')) hooks.emit('client.check_authz_complete', req, ok ? 'allow' : 'deny', req.source ?? 'default');
  return ok;
}

async function continueAsync(first: Promise<string>, chain: ReturnType<Hooks['chain']>, i: number, req: AuthzRequest): Promise<boolean> {
  let r = await first;
  while (r === 'ignore' && ++i < chain.length) r = await (chain[i] as (q: AuthzRequest) => string | Promise<string>)(req);
  return r !== 'deny';
}
