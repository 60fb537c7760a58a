import type { AuthzRequest, Hooks } from './hooks.js';
import type { Metrics } from './metrics.js';

/**
 * Run the `client.authorize` chain: the first non-`ignore` verdict wins; all ignoring allows.
 * Synchronous when every interceptor is, so QoS 0 publishing allocates no promise.
 */
export function authorize(hooks: Hooks, req: AuthzRequest, metrics: Metrics): boolean | Promise<boolean> {
  if (req.client.isSuperuser) return true;
  const chain = hooks.chain('client.authorize');
  const count = (ok: boolean) => {
    metrics.counters[ok ? 'authorization.allow' : 'authorization.deny']++;
    return ok;
  };
  for (let i = 0; i < chain.length; i++) {
    const r = chain[i]!(req);
    if (r instanceof Promise) return continueAsync(r, chain, i, req).then(count);
    if (r !== 'ignore') return count(r === 'allow');
  }
  return true;
}

async function continueAsync(first: Promise<string>, chain: ReturnType<Hooks['chain']>, i: number, req: AuthzRequest): Promise<boolean> {
  let r = await first;
  while (r === 'ignore' && ++i < chain.length) r = await (chain[i] as (q: AuthzRequest) => string | Promise<string>)(req);
  return r !== 'deny';
}
