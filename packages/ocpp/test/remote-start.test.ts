/**
 * CALLs from the back end: RemoteStartTransaction (1.6) and RequestStartTransaction (2.0.1),
 * the charger's answers on the reply and error topics, one outstanding CALL, the bounded queue.
 */
import ocppRpc from 'ocpp-rpc';
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, stopRigs } from './helpers.js';

afterEach(stopRigs);

describe('back-end CALLs', () => {
  it('OCPP 1.6 RemoteStartTransaction reaches the charger; its CALLRESULT comes back under the back end UniqueId', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('RS-16');
    const got: unknown[] = [];
    cp.handle('RemoteStartTransaction', ({ params }: { params: unknown }) => {
      got.push(params);
      return { status: 'Accepted' };
    });
    await backend.send('RS-16', { MessageTypeId: 2, UniqueId: 'rs-1', Action: 'RemoteStartTransaction', Payload: { connectorId: 1, idTag: 'TAG-1' } });
    const reply = await backend.next('ocpp/cp/RS-16/Reply', { UniqueId: 'rs-1' });
    expect(reply.json).toEqual({ MessageTypeId: 3, UniqueId: 'rs-1', Payload: { status: 'Accepted' }, Action: 'RemoteStartTransaction' });
    expect(got).toEqual([{ connectorId: 1, idTag: 'TAG-1' }]);
  });

  it('OCPP 2.0.1 RequestStartTransaction reaches the charger and is answered', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('RS-201', { protocol: 'ocpp2.0.1' });
    cp.handle('RequestStartTransaction', ({ params }: { params: { remoteStartId: number } }) => ({ status: 'Accepted', transactionId: `tx-${params.remoteStartId}` }));
    await backend.send('RS-201', { MessageTypeId: 2, UniqueId: 'rq-7', Action: 'RequestStartTransaction', Payload: { idToken: { idToken: 'TAG-2', type: 'ISO14443' }, remoteStartId: 7 } });
    const reply = await backend.next('ocpp/cp/RS-201/Reply', { UniqueId: 'rq-7' });
    expect(reply.json.Payload).toEqual({ status: 'Accepted', transactionId: 'tx-7' });
  });

  it('a CALLERROR from the charger goes to the error topic with its code, description and details', async () => {
    const rig = await startRig({ ocpp: { upstream: { error_topic: 'cp/${cid}/Error' } } });
    const backend = await rig.backend();
    const cp = await rig.charger('RS-err');
    cp.handle('Reset', () => {
      throw ocppRpc.createRPCError('NotSupported', 'no resets here', { model: 'JX-1' });
    });
    await backend.send('RS-err', { MessageTypeId: 2, UniqueId: 'r-1', Action: 'Reset', Payload: { type: 'Soft' } });
    const err = await backend.next('ocpp/cp/RS-err/Error', { UniqueId: 'r-1' });
    expect(err.json).toEqual({ MessageTypeId: 4, UniqueId: 'r-1', ErrorCode: 'NotSupported', ErrorDescription: 'no resets here', ErrorDetails: { model: 'JX-1' }, Action: 'Reset' });
    expect(backend.on('ocpp/cp/RS-err/Reply')).toEqual([]);
  });

  it('sends one CALL at a time and the rest in order', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('RS-seq');
    let inflight = 0;
    let maxInflight = 0;
    const order: number[] = [];
    cp.handle('DataTransfer', async ({ params }: { params: { messageId: string } }) => {
      inflight++;
      maxInflight = Math.max(maxInflight, inflight);
      order.push(Number(params.messageId));
      await new Promise((r) => setTimeout(r, 20));
      inflight--;
      return { status: 'Accepted', data: params.messageId };
    });
    for (let i = 0; i < 5; i++) {
      await backend.send('RS-seq', { MessageTypeId: 2, UniqueId: `d-${i}`, Action: 'DataTransfer', Payload: { vendorId: 'junction', messageId: String(i) } });
    }
    await backend.until(() => backend.on('ocpp/cp/RS-seq/Reply').length === 5, 'five replies');
    expect(maxInflight).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(backend.on('ocpp/cp/RS-seq/Reply').map((s) => s.json.UniqueId)).toEqual(['d-0', 'd-1', 'd-2', 'd-3', 'd-4']);
  });

  it('refuses a CALL beyond dnstream.max_mqueue_len with queue_full on the error topic', async () => {
    const rig = await startRig({ ocpp: { dnstream: { max_mqueue_len: 1 } } });
    const backend = await rig.backend();
    const cp = await rig.charger('RS-full');
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const seen: string[] = [];
    cp.handle('TriggerMessage', async ({ params }: { params: { requestedMessage: string } }) => {
      seen.push(params.requestedMessage);
      await held;
      return { status: 'Accepted' };
    });
    const send = (id: string, requestedMessage: string) => backend.send('RS-full', { MessageTypeId: 2, UniqueId: id, Action: 'TriggerMessage', Payload: { requestedMessage } });
    await send('t-1', 'Heartbeat'); // outstanding
    await send('t-2', 'StatusNotification'); // queued
    await send('t-3', 'MeterValues'); // refused
    const refused = await backend.next('ocpp/cp/RS-full/Reply', { UniqueId: 't-3' });
    expect(refused.json).toMatchObject({ MessageTypeId: 4, ErrorCode: 'GenericError', Action: 'TriggerMessage', ErrorDetails: { source: 'gateway', reason: 'queue_full' } });
    release();
    await backend.next('ocpp/cp/RS-full/Reply', { UniqueId: 't-2', MessageTypeId: 3 });
    expect(seen).toEqual(['Heartbeat', 'StatusNotification']);
    expect(rig.gateway.stats()).toMatchObject({ dnstream_calls: 2, dnstream_refused: 1 });
  });

  it('a CALL from the back end and an answer to the charger travel on the same topic without mixing', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('RS-mix');
    cp.handle('GetConfiguration', () => ({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '60' }] }));
    const boot = cp.call('BootNotification', { chargePointVendor: 'J', chargePointModel: 'M' });
    const call = await backend.next('ocpp/cp/RS-mix', { Action: 'BootNotification' });
    // A back-end CALL first, then the answer to the charger's CALL.
    await backend.send('RS-mix', { MessageTypeId: 2, UniqueId: 'gc-1', Action: 'GetConfiguration', Payload: { key: ['HeartbeatInterval'] } });
    await backend.send('RS-mix', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 60 } });
    expect(await boot).toMatchObject({ status: 'Accepted' });
    const reply = await backend.next('ocpp/cp/RS-mix/Reply', { UniqueId: 'gc-1' });
    expect(reply.json.Payload).toEqual({ configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '60' }] });
  });
});
