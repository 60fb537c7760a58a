/**
 * CALLs that get no answer: timeouts both ways, and a charger that goes away mid-call.
 */
import ocppRpc from 'ocpp-rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { bootPayload16, eventually, rpcErrorOf, startRig, stopRigs } from './helpers.js';

afterEach(stopRigs);

describe('timeouts and chargers that go away', () => {
  it('a back-end CALL the charger never answers produces a timeout error on the reply topic, then the next CALL goes out', async () => {
    const rig = await startRig({ ocpp: { dnstream: { awaiting_timeout: 300 } } });
    const backend = await rig.backend();
    const cp = await rig.charger('T-dn');
    const seen: string[] = [];
    cp.handle('GetDiagnostics', () => {
      seen.push('GetDiagnostics');
      return ocppRpc.NOREPLY;
    });
    cp.handle('ClearCache', () => {
      seen.push('ClearCache');
      return { status: 'Accepted' };
    });
    const sent = Date.now();
    await backend.send('T-dn', { MessageTypeId: 2, UniqueId: 'g-1', Action: 'GetDiagnostics', Payload: { location: 'ftp://logs.example/' } });
    await backend.send('T-dn', { MessageTypeId: 2, UniqueId: 'c-1', Action: 'ClearCache', Payload: {} });
    const timeout = await backend.next('ocpp/cp/T-dn/Reply', { UniqueId: 'g-1' });
    expect(Date.now() - sent).toBeGreaterThanOrEqual(250);
    expect(timeout.json).toMatchObject({ MessageTypeId: 4, ErrorCode: 'GenericError', Action: 'GetDiagnostics', ErrorDetails: { source: 'gateway', reason: 'timeout' } });
    const next = await backend.next('ocpp/cp/T-dn/Reply', { UniqueId: 'c-1' });
    expect(next.json).toMatchObject({ MessageTypeId: 3, Payload: { status: 'Accepted' } });
    expect(seen).toEqual(['GetDiagnostics', 'ClearCache']);
    expect(rig.gateway.stats().timeouts).toBe(1);
  });

  it('a charger that disconnects mid-call: the outstanding and the queued CALLs are reported as disconnected', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('T-gone');
    let got: () => void = () => {};
    const received = new Promise<void>((r) => (got = r));
    cp.handle('UnlockConnector', () => {
      got();
      return ocppRpc.NOREPLY;
    });
    await backend.send('T-gone', { MessageTypeId: 2, UniqueId: 'u-1', Action: 'UnlockConnector', Payload: { connectorId: 1 } });
    await backend.send('T-gone', { MessageTypeId: 2, UniqueId: 'u-2', Action: 'UnlockConnector', Payload: { connectorId: 2 } });
    await received;
    await cp.close({ force: true });
    const r1 = await backend.next('ocpp/cp/T-gone/Reply', { UniqueId: 'u-1' });
    const r2 = await backend.next('ocpp/cp/T-gone/Reply', { UniqueId: 'u-2' });
    for (const r of [r1, r2]) expect(r.json).toMatchObject({ MessageTypeId: 4, ErrorCode: 'GenericError', ErrorDetails: { source: 'gateway', reason: 'disconnected' } });
    await backend.next('ocpp/cp/T-gone/Connection', { event: 'disconnected', reason: 'connection_lost' });
  });

  it('a charger CALL the back end never answers gets CALLERROR InternalError after upstream.awaiting_timeout', async () => {
    const rig = await startRig({ ocpp: { upstream: { awaiting_timeout: 300 } } });
    const backend = await rig.backend();
    const cp = await rig.charger('T-up');
    const start = Date.now();
    const err = await rpcErrorOf(cp.call('BootNotification', bootPayload16));
    expect(err.code).toBe('InternalError');
    expect(Date.now() - start).toBeGreaterThanOrEqual(250);
    // A late answer no longer matches: the back end is told so.
    const call = await backend.next('ocpp/cp/T-up', { Action: 'BootNotification' });
    await backend.send('T-up', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 60 } });
    await backend.next('ocpp/cp/T-up/Reply', { UniqueId: call.json.UniqueId, ErrorDetails: { source: 'gateway', reason: 'unknown_unique_id' } });
    // And the charger can call again.
    const again = cp.call('Heartbeat', {});
    const hb = await backend.next('ocpp/cp/T-up', { Action: 'Heartbeat' });
    await backend.send('T-up', { MessageTypeId: 3, UniqueId: hb.json.UniqueId, Payload: { currentTime: new Date().toISOString() } });
    await again;
  });

  it('a charger that disconnects while its CALL waits for the back end: the late answer is dropped, a new connection is unaffected', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const old = await rig.charger('T-left');
    void old.call('BootNotification', bootPayload16).catch(() => {});
    const call = await backend.next('ocpp/cp/T-left', { Action: 'BootNotification' });
    await old.close({ force: true });
    await eventually(() => rig.gateway.stats().connections === 0, 'the charger to be gone');
    const fresh = await rig.charger('T-left');
    await backend.send('T-left', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 60 } });
    await backend.next('ocpp/cp/T-left/Reply', { UniqueId: call.json.UniqueId, ErrorDetails: { source: 'gateway', reason: 'unknown_unique_id' } });
    const boot = fresh.call('BootNotification', bootPayload16);
    const second = await backend.until(() => backend.on('ocpp/cp/T-left').filter((s) => s.json.Action === 'BootNotification')[1], 'the second boot');
    await backend.send('T-left', { MessageTypeId: 3, UniqueId: second.json.UniqueId, Payload: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 60 } });
    expect(await boot).toMatchObject({ status: 'Accepted' });
  });
});
