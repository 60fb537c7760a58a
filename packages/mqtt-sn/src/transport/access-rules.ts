import { BlockList, isIP } from 'node:net';

interface Rule {
  readonly allow: boolean;
  /** Undefined: `all`. */
  readonly list?: BlockList;
}

/**
 * EMQX's listener `access_rules`: `allow|deny all|<address>|<cidr>`, checked in order, the first
 * match deciding; with no match (or no rules) a peer is allowed. Throws on a rule it cannot read.
 */
export function compileAccessRules(rules: readonly string[]): ((host: string) => boolean) | undefined {
  if (rules.length === 0) return undefined;
  const compiled: Rule[] = rules.map((text) => {
    const m = /^\s*(allow|deny)\s+(\S+)\s*$/.exec(text);
    if (!m) throw new Error(`access rule ${JSON.stringify(text)} is not "allow|deny all|address|cidr"`);
    const allow = m[1] === 'allow';
    const target = m[2]!;
    if (target === 'all') return { allow };
    const [address, prefix] = target.split('/');
    const family = isIP(address ?? '');
    if (family === 0) throw new Error(`access rule ${JSON.stringify(text)}: ${JSON.stringify(address)} is not an IP address`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    const list = new BlockList();
    if (prefix === undefined) list.addAddress(address!, type);
    else list.addSubnet(address!, Number(prefix), type);
    return { allow, list };
  });
  return (host: string) => {
    const family = isIP(host) === 6 ? 'ipv6' : 'ipv4';
    for (const r of compiled) if (!r.list || r.list.check(host, family)) return r.allow;
    return true;
  };
}
