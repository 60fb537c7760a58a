import { describe, expect, it } from 'vitest';
import { parseIp } from '../src/address.js';
import { AclSyntaxError, DEFAULT_ACL, matchRules, parseAclFile, type RuleAction, type RuleSubject } from '../src/index.js';

function subject(clientId: string, username?: string, ip = '10.0.0.5', vars: Record<string, string> = {}): RuleSubject {
  return { clientId, username, peer: parseIp(ip), vars: (n) => vars[n] };
}
const sub = (qos: 0 | 1 | 2 = 0): RuleAction => ({ type: 'subscribe', qos, retain: false });
const pub = (qos: 0 | 1 | 2 = 0, retain = false): RuleAction => ({ type: 'publish', qos, retain });
const check = (text: string, s: RuleSubject, a: RuleAction, topic: string) => matchRules(parseAclFile(text), s, a, topic.split('/'));

describe('acl.conf parser', () => {
  it('parses EMQX\'s default acl.conf with its comments', () => {
    const rules = parseAclFile(DEFAULT_ACL);
    expect(rules).toHaveLength(4);
    expect(rules.map((r) => r.permission)).toEqual(['allow', 'allow', 'deny', 'allow']);
  });

  it('default rules: $SYS/# and a bare # subscription are refused except from loopback or the dashboard user', () => {
    const rules = parseAclFile(DEFAULT_ACL);
    const remote = subject('c1', 'alice');
    expect(matchRules(rules, remote, sub(), ['$SYS', '#'])).toBe('deny');
    expect(matchRules(rules, remote, sub(), ['$SYS', 'brokers'])).toBe('deny');
    expect(matchRules(rules, remote, sub(), ['#'])).toBe('deny');
    expect(matchRules(rules, remote, sub(), ['a', '#'])).toBe('allow');
    expect(matchRules(rules, remote, pub(), ['a', 'b'])).toBe('allow');
    expect(matchRules(rules, subject('c2', 'dashboard'), sub(), ['$SYS', '#'])).toBe('allow');
    expect(matchRules(rules, subject('c3', undefined, '127.0.0.1'), sub(), ['#'])).toBe('allow');
    expect(matchRules(rules, subject('c4', undefined, '::ffff:127.0.0.1'), sub(), ['$SYS', '#'])).toBe('allow');
  });

  it('reports syntax errors with line and column', () => {
    const bad = (text: string) => {
      try {
        parseAclFile(text, 'acl.conf');
      } catch (err) {
        expect(err).toBeInstanceOf(AclSyntaxError);
        return (err as AclSyntaxError).message;
      }
      throw new Error('parsed');
    };
    expect(bad('{allow, all}\n{deny, all}.')).toMatch(/^acl\.conf:2:1: expected "\."/);
    expect(bad('%% c\n  {allow, {username, "x"}, publish, ["t/#"]')).toMatch(/^acl\.conf:2:/);
    expect(bad('{allow, {username, "x}, publish, ["t"]}.')).toMatch(/unexpected|unterminated|expected/);
    expect(bad('{permit, all}.')).toMatch(/acl\.conf:1:1: invalid permission/);
    expect(bad('{allow, {ipaddr, "300.1.1.1"}, all, ["#"]}.')).toMatch(/invalid address/);
    expect(bad('{allow, all, publish, ["t/${password}"]}.')).toMatch(/unknown placeholder/);
    expect(bad('{allow, all, {publish, [{qos, 3}]}, ["t"]}.')).toMatch(/invalid qos/);
    expect(bad('{allow, {clientid, {re, "("}}, all, ["t"]}.')).toMatch(/regular expression/);
  });

  it('matches who: username, clientid, regex, ipaddr, ipaddrs, and, or, user/client aliases', () => {
    const text = `
      {allow, {user, "u1"}, publish, ["u"]}.
      {allow, {client, "c1"}, publish, ["c"]}.
      {allow, {clientid, {re, "^dev-[0-9]+$"}}, publish, ["re"]}.
      {allow, {ipaddr, "192.168.0.0/16"}, publish, ["net"]}.
      {allow, {ipaddrs, ["10.1.0.0/16", "2001:db8::/32"]}, publish, ["nets"]}.
      {allow, {'and', [{username, "u2"}, {ipaddr, "10.0.0.0/8"}]}, publish, ["and"]}.
      {allow, {'or', [{username, "u3"}, {clientid, "c3"}]}, publish, ["or"]}.
      {deny, all}.
    `;
    expect(check(text, subject('x', 'u1'), pub(), 'u')).toBe('allow');
    expect(check(text, subject('c1'), pub(), 'c')).toBe('allow');
    expect(check(text, subject('dev-42'), pub(), 're')).toBe('allow');
    expect(check(text, subject('dev-42x'), pub(), 're')).toBe('deny');
    expect(check(text, subject('x', undefined, '192.168.3.4'), pub(), 'net')).toBe('allow');
    expect(check(text, subject('x', undefined, '10.2.0.1'), pub(), 'nets')).toBe('deny');
    expect(check(text, subject('x', undefined, '10.1.9.9'), pub(), 'nets')).toBe('allow');
    expect(check(text, subject('x', undefined, '2001:db8::7'), pub(), 'nets')).toBe('allow');
    expect(check(text, subject('x', 'u2', '10.9.9.9'), pub(), 'and')).toBe('allow');
    expect(check(text, subject('x', 'u2', '11.9.9.9'), pub(), 'and')).toBe('deny');
    expect(check(text, subject('c3'), pub(), 'or')).toBe('allow');
    expect(check(text, subject('x', 'u3'), pub(), 'or')).toBe('allow');
    expect(check(text, subject('x', 'u4'), pub(), 'or')).toBe('deny');
    // A rule for a user name never matches a client without one.
    expect(check(text, subject('x'), pub(), 'u')).toBe('deny');
  });

  it('matches actions with qos and retain conditions', () => {
    const text = `
      {allow, all, {publish, [{qos, [0, 1]}, {retain, false}]}, ["p"]}.
      {allow, all, {subscribe, [{qos, 2}]}, ["s"]}.
      {allow, all, {all, [{retain, true}]}, ["r"]}.
      {deny, all}.
    `;
    const s = subject('x');
    expect(check(text, s, pub(1), 'p')).toBe('allow');
    expect(check(text, s, pub(2), 'p')).toBe('deny');
    expect(check(text, s, pub(0, true), 'p')).toBe('deny');
    expect(check(text, s, sub(2), 's')).toBe('allow');
    expect(check(text, s, sub(1), 's')).toBe('deny');
    expect(check(text, s, pub(0, true), 'r')).toBe('allow');
    expect(check(text, s, pub(0, false), 'r')).toBe('deny');
    expect(check(text, s, sub(0), 'r')).toBe('allow');
  });

  it('matches topics: filters, {eq, ...}, "eq " strings, and placeholders', () => {
    const text = `
      {allow, all, subscribe, [{eq, "lit/#"}]}.
      {allow, all, subscribe, ["eq also/+"]}.
      {allow, all, all, ["own/\${clientid}/#", "user/\${username}"]}.
      {allow, all, publish, ["cert/\${cn}/x", "grp/\${client_attrs.group}/#"]}.
      {allow, all, subscribe, ["wide/+"]}.
      {deny, all}.
    `;
    const s = subject('c9', 'bob', '10.0.0.5', { cert_common_name: 'dev1', 'client_attrs.group': 'g1' });
    expect(check(text, s, sub(), 'lit/#')).toBe('allow');
    expect(check(text, s, sub(), 'lit/a')).toBe('deny');
    expect(check(text, s, sub(), 'also/+')).toBe('allow');
    expect(check(text, s, sub(), 'also/x')).toBe('deny');
    expect(check(text, s, pub(), 'own/c9/a/b')).toBe('allow');
    expect(check(text, s, pub(), 'own/c9')).toBe('allow');
    expect(check(text, s, pub(), 'own/c8/a')).toBe('deny');
    expect(check(text, s, sub(), 'user/bob')).toBe('allow');
    expect(check(text, s, pub(), 'cert/dev1/x')).toBe('allow');
    expect(check(text, s, pub(), 'grp/g1/a')).toBe('allow');
    expect(check(text, subject('c9', 'bob'), pub(), 'grp/g1/a')).toBe('deny');
    // A subscription is only covered by a rule at least as wide.
    expect(check(text, s, sub(), 'wide/+')).toBe('allow');
    expect(check(text, s, sub(), 'wide/#')).toBe('deny');
    expect(check(text, s, sub(), 'wide/a/b')).toBe('deny');
  });

  it('placeholders never widen rights: +, #, / and ${...} in names are literal or no match', () => {
    const text = `{allow, all, all, ["t/\${username}/#", "c/\${clientid}"]}.\n{deny, all}.`;
    for (const evil of ['+', '#', 'a/b', '${clientid}', '${username}', '', 'x+y']) {
      const s = subject(evil, evil);
      expect(check(text, s, sub(), 't/other/#')).toBe('deny');
      expect(check(text, s, sub(), 't/+/#')).toBe('deny');
      expect(check(text, s, sub(), 't/#')).toBe('deny');
      expect(check(text, s, pub(), 'c/other')).toBe('deny');
      expect(check(text, s, sub(), 'c/+')).toBe('deny');
    }
    // ${username} as a user name is text, never substituted again.
    const s = subject('${username}', '${username}');
    expect(check(text, s, pub(), 't/${username}/x')).toBe('allow');
    expect(check(text, s, pub(), 't/${clientid}/x')).toBe('deny');
    // a/b must not reach into user a's levels.
    expect(check(text, subject('q', 'a/b'), pub(), 't/a/b/x')).toBe('deny');
  });
});
