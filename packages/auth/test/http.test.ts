import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, json, publish, startAuthBroker, startHttp, subscribe, type AuthBrokerFixture, type HttpCall, type TestHttpServer } from './helpers.js';

let http: TestHttpServer;
let f: AuthBrokerFixture | undefined;

function params(call: HttpCall): Record<string, string> {
  if (call.method === 'GET') return Object.fromEntries(new URL(call.url, 'http://x').searchParams);
  return JSON.parse(call.body) as Record<string, string>;
}

beforeAll(async () => {
  http = await startHttp((call, res) => {
    const p = params(call);
    if (call.url.startsWith('/authz')) {
      if (p.topic === 'free') return res.writeHead(204).end();
      if (p.topic === 'boom') return res.writeHead(500).end();
      return json(res, 200, { result: p.topic?.startsWith(`${p.username}/`) && p.action === 'publish' ? 'allow' : p.topic === 'ignored' ? 'ignore' : 'deny' });
    }
    switch (p.username) {
      case 'alice':
        return json(res, 200, p.password === 'right' ? { result: 'allow', is_superuser: false, client_attrs: { group: 'g1' }, acl: [{ permission: 'allow', action: 'all', topic: 'grp/${client_attrs.group}/#' }] } : { result: 'deny' });
      case 'admin':
        return json(res, 200, { result: 'allow', is_superuser: true });
      case 'nocontent':
        return res.writeHead(204).end();
      case 'err':
        return res.writeHead(500).end('oops');
      case 'garbage':
        return res.writeHead(200, { 'content-type': 'application/json' }).end('{not json');
      case 'past':
        return json(res, 200, { result: 'allow', expire_at: Math.floor(Date.now() / 1000) - 10 });
      case 'slow':
        setTimeout(() => json(res, 200, { result: 'allow' }), 1500).unref();
        return;
      default:
        return json(res, 200, { result: 'ignore' });
    }
  });
});
afterAll(() => http?.stop());
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

const httpAuthn = (extra: Record<string, unknown> = {}) => ({
  mechanism: 'password_based',
  backend: 'http',
  method: 'post',
  url: `${http.url}/auth`,
  headers: { 'X-Client': '${clientid}' },
  body: { username: '${username}', password: '${password}', clientid: '${clientid}', peer: '${peerhost}' },
  request_timeout: '500ms',
  ...extra,
});

describe('HTTP authentication', () => {
  it('follows the service: allow (with is_superuser, acl, client_attrs), deny, ignore, 204, errors', async () => {
    f = await startAuthBroker({ authentication: [httpAuthn()], authorization: { no_match: 'deny', sources: [] } });
    const a = await connect(f, { clientId: 'ca', username: 'alice', password: 'right' });
    expect(a.code).toBe(0);
    const call = http.calls.find((c) => c.url === '/auth' && params(c).clientid === 'ca')!;
    expect(call.method).toBe('POST');
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.headers['x-client']).toBe('ca');
    expect(params(call)).toMatchObject({ username: 'alice', password: 'right', peer: '127.0.0.1' });
    expect(await publish(a.client, 'grp/g1/x', '1')).toBe(0);
    expect(await publish(a.client, 'grp/g2/x', '1')).toBe(0x87);
    expect((await connect(f, { username: 'alice', password: 'wrong' })).code).toBe(0x87);
    const admin = await connect(f, { username: 'admin', password: 'x' });
    expect(await subscribe(admin.client, '#')).toBe(1);
    expect((await connect(f, { username: 'nocontent', password: 'x' })).code).toBe(0);
    expect((await connect(f, { username: 'someone', password: 'x' })).code).toBe(0x87);
    expect((await connect(f, { username: 'err', password: 'x' })).code).toBe(0x87);
    expect((await connect(f, { username: 'garbage', password: 'x' })).code).toBe(0x87);
    expect((await connect(f, { username: 'past', password: 'x' })).code).toBe(0x86);
    expect((await connect(f, { username: 'slow', password: 'x' })).code).toBe(0x87);
    expect(f.log.text()).not.toContain('right');
  });

  it('on_failure: deny turns timeouts and garbage into a refusal (0x88)', async () => {
    f = await startAuthBroker({ authentication: [httpAuthn({ on_failure: 'deny' })] });
    expect((await connect(f, { username: 'slow', password: 'x' })).code).toBe(0x88);
    expect((await connect(f, { username: 'garbage', password: 'x' })).code).toBe(0x88);
    expect((await connect(f, { username: 'someone', password: 'x' })).code).toBe(0x87);
  });

  it('GET puts body fields in the query string and URL-encodes path placeholders', async () => {
    f = await startAuthBroker({ authentication: [httpAuthn({ method: 'get', url: `${http.url}/auth/\${clientid}?src=junction`, headers: {} })] });
    expect((await connect(f, { clientId: 'a b/c?', username: 'alice', password: 'right' })).code).toBe(0);
    const call = http.calls.at(-1)!;
    expect(call.method).toBe('GET');
    expect(call.url.startsWith('/auth/a%20b%2Fc%3F?')).toBe(true);
    expect(params(call)).toMatchObject({ src: 'junction', username: 'alice', password: 'right' });
  });
});

describe('HTTP authorization', () => {
  it('asks the service per action: 200 allow/deny, 204 allow, ignore and errors meet no_match', async () => {
    f = await startAuthBroker({
      authentication: [httpAuthn()],
      authorization: {
        no_match: 'deny',
        cache: { enable: false },
        sources: [{ type: 'http', method: 'post', url: `${http.url}/authz`, body: { username: '${username}', topic: '${topic}', action: '${action}', qos: '${qos}', retain: '${retain}' } }],
      },
    });
    const a = await connect(f, { username: 'nocontent', password: 'x' });
    expect(await publish(a.client, 'nocontent/t', '1', { qos: 1, retain: true })).toBe(0);
    const sent = params(http.calls.at(-1)!);
    expect(sent).toEqual({ username: 'nocontent', topic: 'nocontent/t', action: 'publish', qos: '1', retain: 'true' });
    expect(await publish(a.client, 'other/t', '1')).toBe(0x87);
    expect(await subscribe(a.client, 'nocontent/t')).toBe(0x87);
    expect(await subscribe(a.client, 'free')).toBe(1);
    expect(await subscribe(a.client, 'ignored')).toBe(0x87);
    expect(await subscribe(a.client, 'boom')).toBe(0x87);
  });
});
