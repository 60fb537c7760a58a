/**
 * The refusals of @junction/auth as MQTT-SN return codes, with the real plugin installed
 * (built-in users, a banned client id, an acl.conf denying `secret/#`) and a real UDP client.
 * MQTT-SN 1.2 (§5.3.10) knows only 0x00 accepted, 0x01 congestion, 0x02 invalid topic id and 0x03
 * not supported; EMQX answers every refused login and every denied publish or subscribe with its
 * own code 0x80 (SN_RC2_NOT_AUTHORIZE), and so does Junction. MQTT-SN CONNECT carries no user
 * name or password: `clientinfo_override` supplies them (here the user name is the client id).
 * A new ban ends a connected client with DISCONNECT.
 */
import { installAuth, type AuthHandle } from '@junction/auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETURN_CODE } from '../src/index.js';
import { startStack, type Stack } from './helpers.js';

const ACL = ['{deny, all, publish, ["secret/#"]}.', '{deny, all, subscribe, ["secret/#"]}.', '{allow, all}.'].join('\n');

let s: Stack;
let auth: AuthHandle;

beforeAll(async () => {
  s = await startStack({ config: { clientinfo_override: { username: '${clientid}', password: 's3cret' } } });
  auth = await installAuth(s.broker, {
    authentication: [{ mechanism: 'password_based', backend: 'built_in_database' }],
    authorization: { no_match: 'deny', sources: [{ type: 'file', rules: ACL }] },
  });
  for (const id of ['sn-good', 'sn-acl', 'sn-kick', 'sn-banned']) await auth.users.add({ user_id: id, password: 's3cret' });
  await auth.users.add({ user_id: 'sn-other-pw', password: 'not-the-override' });
  auth.banned.create({ as: 'clientid', who: 'sn-banned' });
});

afterAll(async () => {
  await auth?.stop();
  await s?.stop();
});

describe('MQTT-SN failure codes under @junction/auth', () => {
  it.each([
    ['known user, right password', 'sn-good', RETURN_CODE.ACCEPTED],
    ['wrong password', 'sn-other-pw', RETURN_CODE.NOT_AUTHORIZED],
    ['unknown user', 'sn-nobody', RETURN_CODE.NOT_AUTHORIZED],
    ['banned client id', 'sn-banned', RETURN_CODE.NOT_AUTHORIZED],
  ])('CONNACK, %s (%s): return code %i', async (_what, clientId, code) => {
    const c = await s.snClient();
    expect(await c.connect(clientId)).toEqual({ type: 'connack', returnCode: code });
    if (code !== RETURN_CODE.ACCEPTED) await c.nothing(undefined, 100);
  });

  it('a denied PUBLISH gets PUBACK 0x80, a denied SUBSCRIBE SUBACK 0x80; allowed topics still work', async () => {
    const watcher = await s.mqtt({ clientId: 'sn-good', username: 'sn-good', password: 's3cret' });
    await watcher.client.subscribeAsync('open/#', { qos: 1 });
    const c = await s.snClient();
    expect(await c.connect('sn-acl')).toMatchObject({ returnCode: RETURN_CODE.ACCEPTED });
    const secret = await c.register('secret/x');
    expect(await c.publish({ kind: 'id', id: secret }, 'no', 1)).toMatchObject({ type: 'puback', topicId: secret, returnCode: RETURN_CODE.NOT_AUTHORIZED });
    expect(await c.subscribe('secret/#', 1)).toMatchObject({ type: 'suback', topicId: 0, returnCode: RETURN_CODE.NOT_AUTHORIZED });
    // The same client may still use what the ACL allows.
    const open = await c.register('open/x');
    expect(await c.publish({ kind: 'id', id: open }, 'yes', 1)).toMatchObject({ returnCode: RETURN_CODE.ACCEPTED });
    const [m] = await watcher.waitFor(1);
    expect(m).toMatchObject({ topic: 'open/x', text: 'yes' });
    expect(await c.subscribe('open/#', 1)).toMatchObject({ returnCode: RETURN_CODE.ACCEPTED });
  });

  it('a new ban disconnects the client (DISCONNECT), and it cannot come back', async () => {
    const c = await s.snClient();
    expect(await c.connect('sn-kick')).toMatchObject({ returnCode: RETURN_CODE.ACCEPTED });
    const reasons: string[] = [];
    const off = s.broker.hooks.on('client.disconnected', (client, reason) => {
      if (client.clientId === 'sn-kick') reasons.push(reason);
    });
    auth.banned.create({ as: 'clientid', who: 'sn-kick' });
    expect(await c.next('disconnect')).toEqual({ type: 'disconnect' });
    off();
    expect(reasons).toEqual(['banned']);
    expect(await c.connect('sn-kick')).toEqual({ type: 'connack', returnCode: RETURN_CODE.NOT_AUTHORIZED });
  });
});
