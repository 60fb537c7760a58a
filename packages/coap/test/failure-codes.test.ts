/**
 * The refusals of @junction/auth as CoAP response codes, with the real plugin installed (built-in
 * users, a banned client id, an acl.conf denying `secret/#`) and real clients: node-coap, and
 * libcoap's `coap-client-notls` for one case: 4.01 Unauthorized for refused credentials and bans
 * (as EMQX), 4.03 Forbidden for a publish or subscribe the ACL denies (RFC 7252 §5.9.2.4; EMQX
 * answers 4.01 there). A new ban ends a connection-mode client: its token stops working.
 */
import { execFile } from 'node:child_process';
import { installAuth, type AuthHandle } from '@junction/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoapTestClient } from './coap-client.js';
import { collect, eventually, startGateway, type Running } from './harness.js';

const ACL = ['{deny, all, publish, ["secret/#"]}.', '{deny, all, subscribe, ["secret/#"]}.', '{allow, all}.'].join('\n');

let gw: Running;
let auth: AuthHandle;
const clients: CoapTestClient[] = [];

beforeAll(async () => {
  gw = await startGateway();
  auth = await installAuth(gw.broker, {
    authentication: [{ mechanism: 'password_based', backend: 'built_in_database' }],
    authorization: { no_match: 'deny', sources: [{ type: 'file', rules: ACL }] },
  });
  await auth.users.add({ user_id: 'alice', password: 's3cret' });
  await auth.users.add({ user_id: 'observer', password: 'pw', is_superuser: true });
  auth.banned.create({ as: 'clientid', who: 'banned-dev' });
});

afterAll(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await auth?.stop();
  await gw?.stop();
});

function client(): CoapTestClient {
  const c = new CoapTestClient(gw.port);
  clients.push(c);
  return c;
}

async function open(clientId: string): Promise<{ c: CoapTestClient; token: string }> {
  const c = client();
  const r = await c.request({ method: 'POST', path: '/mqtt/connection', query: `clientid=${clientId}&username=alice&password=s3cret` });
  expect(r.code).toBe('2.01');
  return { c, token: r.payload.toString() };
}

describe('CoAP failure codes under @junction/auth', () => {
  it.each([
    ['right password', 'clientid=ok-1&username=alice&password=s3cret', '2.01', undefined],
    ['wrong password', 'clientid=fc-1&username=alice&password=wrong', '4.01', 'Login Failed: bad_credentials'],
    ['no password', 'clientid=fc-2&username=alice', '4.01', 'Login Failed: bad_credentials'],
    ['unknown user', 'clientid=fc-3&username=mallory&password=x', '4.01', 'Login Failed: not_authorized'],
    ['banned client id', 'clientid=banned-dev&username=alice&password=s3cret', '4.01', 'Login Failed: banned'],
  ])('connection mode, %s: %s', async (_what, query, code, payload) => {
    const r = await client().request({ method: 'POST', path: '/mqtt/connection', query });
    expect(r.code).toBe(code);
    if (payload !== undefined) expect(r.payload.toString()).toBe(payload);
  });

  it.each([
    ['wrong password', 'c=cl-1&u=alice&p=wrong', '4.01'],
    ['banned client id', 'c=banned-dev&u=alice&p=s3cret', '4.01'],
    ['denied topic', 'c=cl-2&u=alice&p=s3cret', '4.03'],
  ])('connectionless publish, %s: %s', async (what, query, code) => {
    const topic = what === 'denied topic' ? 'secret/x' : 'open/x';
    expect((await client().request({ method: 'POST', path: `/ps/${topic}`, query, payload: 'x' })).code).toBe(code);
  });

  it('ACL deny in connection mode: publish and subscribe get 4.03; an allowed topic still works', async () => {
    const sub = await gw.mqtt({ username: 'observer', password: 'pw', clientId: 'fc-observer' });
    const got = collect(sub);
    await sub.subscribeAsync('#', { qos: 1 });
    const { c, token } = await open('acl-dev');
    const q = `clientid=acl-dev&token=${token}`;
    expect((await c.request({ method: 'POST', path: '/ps/secret/a', query: q, payload: 'no' })).code).toBe('4.03');
    expect((await c.observe({ path: '/ps/secret/#', query: q })).response.code).toBe('4.03');
    expect((await c.request({ method: 'POST', path: '/ps/open/a', query: q, payload: 'yes' })).code).toBe('2.04');
    const m = await got.next();
    expect([m.topic, m.payload.toString()]).toEqual(['open/a', 'yes']);
    expect(got.messages.map((x) => x.topic)).not.toContain('secret/a');
    await sub.endAsync(true);
  });

  it('a new ban disconnects a connection-mode client: its token stops working, reconnecting is refused', async () => {
    const { c, token } = await open('to-ban');
    const q = `clientid=to-ban&token=${token}`;
    expect((await c.request({ method: 'PUT', path: '/mqtt/connection', query: q })).code).toBe('2.04');
    const reasons: string[] = [];
    const off = gw.broker.hooks.on('client.disconnected', (client, reason) => {
      if (client.clientId === 'to-ban') reasons.push(reason);
    });
    auth.banned.create({ as: 'clientid', who: 'to-ban', reason: 'test' });
    await eventually(() => reasons.length > 0, 'the banned client to be disconnected');
    off();
    expect(reasons).toEqual(['banned']);
    expect(gw.broker.session('to-ban')?.connected ?? false).toBe(false);
    const after = await c.request({ method: 'PUT', path: '/mqtt/connection', query: q });
    expect([after.code, after.payload.toString()]).toEqual(['4.01', 'Invalid token or clientid in connection mode']);
    const again = await c.request({ method: 'POST', path: '/mqtt/connection', query: 'clientid=to-ban&username=alice&password=s3cret' });
    expect([again.code, again.payload.toString()]).toEqual(['4.01', 'Login Failed: banned']);
  });

  it('libcoap coap-client-notls sees 4.01 for a wrong password and 4.03 for a denied topic', async () => {
    const run = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        execFile('coap-client-notls', args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
          if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error('coap-client-notls is not installed (Debian package libcoap3-bin)'));
          resolve(stdout + stderr);
        });
      });
    const base = `coap://127.0.0.1:${gw.port}`;
    expect(await run(['-m', 'post', `${base}/mqtt/connection?clientid=lc-1&username=alice&password=wrong`])).toContain('4.01 Login Failed: bad_credentials');
    expect(await run(['-m', 'post', '-e', 'x', `${base}/ps/secret/lc?c=lc-2&u=alice&p=s3cret`])).toMatch(/^4\.03 /m);
  });
});
