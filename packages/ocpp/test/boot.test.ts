import { afterEach, describe, expect, it } from 'vitest';
import { bootPayload16, bootPayload201, now, startRig, stopRigs } from './helpers.js';

afterEach(stopRigs);

describe('BootNotification through the back end', () => {
  it('OCPP 1.6: the CALL is published to ocpp/cp/{cid} and the back end answer reaches the charger', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('CP-16');
    const answer = cp.call('BootNotification', bootPayload16);
    const call = await backend.next('ocpp/cp/CP-16', { MessageTypeId: 2, Action: 'BootNotification' });
    expect(call.json).toEqual({ MessageTypeId: 2, UniqueId: expect.any(String), Action: 'BootNotification', Payload: bootPayload16 });
    const reply = { currentTime: now(), interval: 300, status: 'Accepted' };
    await backend.send('CP-16', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: reply });
    expect(await answer).toEqual(reply);
  });

  it('OCPP 2.0.1: the same flow with the 2.0.1 payloads', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('CS-201', { protocol: 'ocpp2.0.1' });
    const answer = cp.call('BootNotification', bootPayload201);
    const call = await backend.next('ocpp/cp/CS-201', { Action: 'BootNotification' });
    expect(call.json.Payload).toEqual(bootPayload201);
    const reply = { currentTime: now(), interval: 60, status: 'Accepted' };
    await backend.send('CS-201', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: reply });
    expect(await answer).toEqual(reply);
  });

  it('a back-end CALLERROR answer reaches the charger as CALLERROR', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('CP-err');
    const answer = cp.call('BootNotification', bootPayload16).catch((e: { rpcErrorCode: string; message: string; details: unknown }) => e);
    const call = await backend.next('ocpp/cp/CP-err', { Action: 'BootNotification' });
    await backend.send('CP-err', { MessageTypeId: 4, UniqueId: call.json.UniqueId, ErrorCode: 'SecurityError', ErrorDescription: 'unknown station', ErrorDetails: { hint: 'register first' } });
    const err = await answer;
    expect(err).toMatchObject({ rpcErrorCode: 'SecurityError', message: 'unknown station', details: { hint: 'register first' } });
  });
});
