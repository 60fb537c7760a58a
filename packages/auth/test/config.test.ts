import { BrokerCore, ConfigError } from '@junction/broker-core';
import type { TSchema } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { authConfigSchema, installAuth, normalizeConfig, type AuthConfig } from '../src/index.js';

const parse = (input: unknown) => normalizeConfig<AuthConfig>(authConfigSchema, input);

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('no error');
}

describe('configuration', () => {
  it('fills EMQX\'s defaults from an empty config', () => {
    expect(parse({})).toEqual({
      authentication: [],
      authorization: { no_match: 'allow', deny_action: 'ignore', cache: { enable: true, max_size: 32, ttl: 60_000, excludes: [] }, sources: [{ type: 'file', enable: true }] },
      banned: {},
      flapping_detect: { enable: false, max_count: 15, window_time: 60_000, ban_time: 300_000 },
    });
  });

  it('fills each authenticator\'s defaults and parses durations', () => {
    const c = parse({
      authentication: [
        { mechanism: 'password_based', backend: 'built_in_database' },
        { mechanism: 'password_based', backend: 'redis', cmd: 'HMGET mqtt_user:${username} password_hash', request_timeout: '2s' },
        { mechanism: 'jwt', secret: 's' },
        { mechanism: 'password_based', backend: 'http', url: 'http://127.0.0.1/auth' },
        { mechanism: 'scram', backend: 'built_in_database' },
        { mechanism: 'x509' },
      ],
      authorization: { cache: { ttl: '5m' }, sources: [{ type: 'redis', cmd: 'HGETALL mqtt_acl:${username}' }, { type: 'http', url: 'http://127.0.0.1/acl' }] },
      flapping_detect: { enable: true, window_time: '30s', ban_time: '1h' },
    });
    expect(c.authentication[0]).toMatchObject({ enable: true, user_id_type: 'username', password_hash_algorithm: { name: 'sha256', salt_position: 'prefix' }, bootstrap_type: 'plain' });
    expect(c.authentication[1]).toMatchObject({ redis_type: 'single', server: '127.0.0.1:6379', database: 0, request_timeout: 2000, on_failure: 'ignore' });
    expect(c.authentication[2]).toMatchObject({ from: 'password', use_jwks: false, algorithm: 'hmac-based', refresh_interval: 300, acl_claim_name: 'acl', disconnect_after_expire: true, verify_claims: {} });
    expect(c.authentication[3]).toMatchObject({ method: 'post', headers: {}, request_timeout: 5000, connect_timeout: 15_000 });
    expect(c.authentication[4]).toMatchObject({ algorithm: 'sha256', iteration_count: 4096 });
    expect(c.authentication[5]).toMatchObject({ username_from: 'cn', check_username: true });
    expect(c.authorization.cache.ttl).toBe(300_000);
    expect(c.authorization.sources[1]).toMatchObject({ method: 'post', request_timeout: 30_000 });
    expect(c.flapping_detect).toEqual({ enable: true, max_count: 15, window_time: 30_000, ban_time: 3_600_000 });
    // Parsed input passes through unchanged.
    expect(parse(c)).toEqual(c);
  });

  it('names the bad key in errors', () => {
    expect(configError(() => parse({ authentication: [{ mechanism: 'password_based', backend: 'redis' }] })).path).toBe('authentication.0.cmd');
    expect(configError(() => parse({ authentication: [{ mechanism: 'magic' }] })).path).toBe('authentication.0');
    expect(configError(() => parse({ authentication: [{ mechanism: 'jwt', secret: 's', sekret: 'typo' }] })).path).toBe('authentication.0.sekret');
    expect(configError(() => parse({ authorization: { no_match: 'maybe' } })).path).toBe('authorization.no_match');
    expect(configError(() => parse({ authorization: { cache: { ttl: 'soon' } } })).path).toBe('authorization.cache.ttl');
    expect(configError(() => parse({ authentication: [{ mechanism: 'password_based', backend: 'built_in_database', password_hash_algorithm: { name: 'pbkdf2', mac_fun: 'sha256' } }] })).path).toMatch(/^authentication\.0\.password_hash_algorithm/);
  });

  it('refuses at install: jwt without a secret, duplicate authenticators, a broken acl file, a bad URL', async () => {
    const broker = new BrokerCore();
    await expect(installAuth(broker, { authentication: [{ mechanism: 'jwt' }] })).rejects.toMatchObject({ path: 'authentication.0.secret' });
    await expect(installAuth(broker, { authentication: [{ mechanism: 'jwt', algorithm: 'public-key', public_key: 'nope' }] })).rejects.toMatchObject({ path: 'authentication.0.public_key' });
    await expect(installAuth(broker, { authentication: [{ mechanism: 'x509' }, { mechanism: 'x509' }] })).rejects.toMatchObject({ path: 'authentication.1' });
    await expect(installAuth(broker, { authorization: { sources: [{ type: 'file', rules: '{allow, all}.\n{allow, nobody, all, ["#"]}.' }] } })).rejects.toThrow(/authorization\.sources\.0\.rules: .*:2:1: invalid client condition/);
    await expect(installAuth(broker, { authentication: [{ mechanism: 'password_based', backend: 'http', url: 'ftp://x' }] })).rejects.toMatchObject({ path: 'authentication.0.url' });
    await expect(installAuth(broker, { authentication: [{ mechanism: 'jwt', secret: 's', verify_claims: { exp: '1' } }] })).rejects.toMatchObject({ path: 'authentication.0.verify_claims.exp' });
    // A failed install leaves no hooks behind.
    expect(broker.hooks.chain('client.authenticate')).toHaveLength(0);
    expect(broker.hooks.chain('client.authorize')).toHaveLength(0);
    await broker.close();
  });

  it('describes every key, and gives every optional setting a default', () => {
    const noDefault = new Set(['mechanism', 'backend', 'type', 'name', 'url', 'cmd', 'iterations', 'mac_fun']);
    const problems: string[] = [];
    const walk = (schema: TSchema, path: string) => {
      const s = schema as TSchema & { properties?: Record<string, TSchema>; anyOf?: TSchema[]; items?: TSchema; required?: string[]; default?: unknown; description?: string };
      if (s.anyOf) s.anyOf.forEach((b) => walk(b, path));
      if (s.items) walk(s.items, `${path}[]`);
      for (const [key, inner] of Object.entries(s.properties ?? {})) {
        const i = inner as typeof s;
        const optional = !s.required?.includes(key);
        if (!i.description) problems.push(`${path}.${key}: no description`);
        if (!optional && i.default === undefined && !noDefault.has(key)) problems.push(`${path}.${key}: no default`);
        walk(inner, `${path}.${key}`);
      }
    };
    walk(authConfigSchema, '');
    expect(problems).toEqual([]);
  });
});
