/**
 * The refusals of @junction/auth as OCPP answers, with the real plugin installed (built-in users
 * keyed by the charge point id, banned charge points, an acl.conf) and ocpp-rpc chargers:
 * refused credentials and bans end the WebSocket upgrade with HTTP 401 (OCPP security profiles 1
 * and 2 define no other refusal); a refused subscription to the charger's own downstream topic
 * ends it with 403; a CALL the ACL refuses to publish gets CALLERROR SecurityError; a new ban
 * closes a connected charger with 1008.
 */
import { installAuth, type AuthHandle } from '@junction/auth';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { Backend, bootPayload16, refusedStatus, rpcErrorOf, startRig, stopRigs, type Rig } from './helpers.js';

const ACL = ['{deny, {clientid, "CP-nosub"}, subscribe, ["#"]}.', '{deny, {clientid, "CP-nopub"}, publish, ["#"]}.', '{allow, all}.'].join('\n');

let auth: AuthHandle | undefined;
afterEach(async () => {
  await auth?.stop();
  auth = undefined;
  await stopRigs();
});

async function rigWithAuth(): Promise<Rig> {
  const rig = await startRig();
  auth = await installAuth(rig.broker, {
    authentication: [{ mechanism: 'password_based', backend: 'built_in_database' }],
    authorization: { no_match: 'deny', sources: [{ type: 'file', rules: ACL }] },
  });
  for (const id of ['CP-good', 'CP-banned', 'CP-nosub', 'CP-nopub', 'CP-kick']) await auth.users.add({ user_id: id, password: 's3cret' });
  await auth.users.add({ user_id: 'backend', password: 'pw', is_superuser: true });
  auth.banned.create({ as: 'clientid', who: 'CP-banned' });
  return rig;
}

describe('OCPP failure codes under @junction/auth', () => {
  it.each([
    ['wrong password', 'CP-good', 'wrong', 401],
    ['no password', 'CP-good', undefined, 401],
    ['unknown charge point', 'CP-unknown', 's3cret', 401],
    ['banned charge point', 'CP-banned', 's3cret', 401],
    ['subscription to its own topic denied', 'CP-nosub', 's3cret', 403],
  ])('upgrade refused, %s (%s, password %s): HTTP %i', async (_what, id, password, status) => {
    const rig = await rigWithAuth();
    expect(await refusedStatus(rig.charger(id as string, { password }))).toBe(status);
    expect(rig.gateway.stats().connections).toBe(0);
    // The right credentials still get in.
    const ok = await rig.charger('CP-good', { password: 's3cret' });
    expect(ok.protocol).toBe('ocpp1.6');
  });

  it('a CALL the ACL refuses to publish gets CALLERROR SecurityError, and nothing reaches the back end', async () => {
    const rig = await rigWithAuth();
    const backend = new Backend(await mqtt.connectAsync(rig.mqttUrl, { protocolVersion: 5, reconnectPeriod: 0, username: 'backend', password: 'pw' }));
    await backend.client.subscribeAsync('ocpp/cp/#', { qos: 1 });
    const cp = await rig.charger('CP-nopub', { password: 's3cret' });
    const err = await rpcErrorOf(cp.call('BootNotification', bootPayload16));
    expect(err.code).toBe('SecurityError');
    expect(backend.on('ocpp/cp/CP-nopub')).toEqual([]);
    await backend.client.endAsync(true);
  });

  it('a new ban closes a connected charger with 1008, and it cannot come back (401)', async () => {
    const rig = await rigWithAuth();
    const cp = await rig.charger('CP-kick', { password: 's3cret' });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => cp.once('close', resolve));
    auth!.banned.create({ as: 'clientid', who: 'CP-kick' });
    expect(await closed).toEqual({ code: 1008, reason: 'banned' });
    expect(await refusedStatus(rig.charger('CP-kick', { password: 's3cret' }))).toBe(401);
  });
});
