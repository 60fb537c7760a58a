/**
 * A charging session end to end, with a small central system on MQTT.js answering every CALL.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startRig, stopRigs, type Backend } from './helpers.js';

afterEach(stopRigs);

/** A back end that answers the 1.6 and 2.0.1 CALLs of a charging session. */
function centralSystem(backend: Backend): void {
  let nextTx = 1000;
  backend.answer('Authorize', (req) => (req.idTag === 'BLOCKED' ? { idTagInfo: { status: 'Blocked' } } : 'idToken' in req ? { idTokenInfo: { status: 'Accepted' } } : { idTagInfo: { status: 'Accepted' } }));
  backend.answer('StartTransaction', () => ({ transactionId: nextTx++, idTagInfo: { status: 'Accepted' } }));
  backend.answer('StopTransaction', () => ({ idTagInfo: { status: 'Accepted' } }));
  backend.answer('MeterValues', () => ({}));
  backend.answer('StatusNotification', () => ({}));
  backend.answer('TransactionEvent', (req) => (req.eventType === 'Started' ? { idTokenInfo: { status: 'Accepted' } } : {}));
}

const meterValue = (wh: number) => [{ timestamp: new Date().toISOString(), sampledValue: [{ value: String(wh), measurand: 'Energy.Active.Import.Register', unit: 'Wh' }] }];
const meterValue201 = (wh: number) => [{ timestamp: new Date().toISOString(), sampledValue: [{ value: wh, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }];

describe('a charging session', () => {
  it('OCPP 1.6: Authorize, StatusNotification, StartTransaction, MeterValues, StopTransaction', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    centralSystem(backend);
    const cp = await rig.charger('TX-16');

    expect(await cp.call('Authorize', { idTag: 'TAG-1' })).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect(await cp.call('Authorize', { idTag: 'BLOCKED' })).toEqual({ idTagInfo: { status: 'Blocked' } });
    await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing' });
    const started = (await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG-1', meterStart: 0, timestamp: new Date().toISOString() })) as { transactionId: number };
    expect(started).toEqual({ transactionId: 1000, idTagInfo: { status: 'Accepted' } });
    for (const wh of [100, 250]) {
      expect(await cp.call('MeterValues', { connectorId: 1, transactionId: started.transactionId, meterValue: meterValue(wh) })).toEqual({});
    }
    const stopped = await cp.call('StopTransaction', { transactionId: started.transactionId, meterStop: 400, timestamp: new Date().toISOString(), reason: 'Local' });
    expect(stopped).toEqual({ idTagInfo: { status: 'Accepted' } });

    // What the back end saw, in order, on ocpp/cp/TX-16.
    const calls = backend.on('ocpp/cp/TX-16').map((s) => s.json.Action);
    expect(calls).toEqual(['Authorize', 'Authorize', 'StatusNotification', 'StartTransaction', 'MeterValues', 'MeterValues', 'StopTransaction']);
    const meter = backend.on('ocpp/cp/TX-16').find((s) => s.json.Action === 'MeterValues')!;
    expect(meter.json.Payload).toMatchObject({ transactionId: 1000, meterValue: [{ sampledValue: [{ value: '100', unit: 'Wh' }] }] });
  });

  it('OCPP 2.0.1: Authorize and TransactionEvent Started, Updated with meter values, Ended', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    centralSystem(backend);
    const cp = await rig.charger('TX-201', { protocol: 'ocpp2.0.1' });
    const idToken = { idToken: 'TAG-2', type: 'ISO14443' };
    expect(await cp.call('Authorize', { idToken })).toEqual({ idTokenInfo: { status: 'Accepted' } });
    const tx = (eventType: string, seqNo: number, triggerReason: string, extra: Record<string, unknown> = {}) =>
      cp.call('TransactionEvent', { eventType, timestamp: new Date().toISOString(), triggerReason, seqNo, transactionInfo: { transactionId: 'tx-9' }, ...extra });
    expect(await tx('Started', 0, 'Authorized', { idToken, evse: { id: 1, connectorId: 1 } })).toEqual({ idTokenInfo: { status: 'Accepted' } });
    expect(await tx('Updated', 1, 'MeterValuePeriodic', { meterValue: meterValue201(1200) })).toEqual({});
    expect(await tx('Ended', 2, 'StopAuthorized', { meterValue: meterValue201(2400) })).toEqual({});

    const events = backend.on('ocpp/cp/TX-201').filter((s) => s.json.Action === 'TransactionEvent');
    expect(events.map((s) => (s.json.Payload as { eventType: string }).eventType)).toEqual(['Started', 'Updated', 'Ended']);
    expect(events[1]!.json.Payload).toMatchObject({ meterValue: [{ sampledValue: [{ value: 1200 }] }] });
  });

  it('per-action topic overrides route a CALL elsewhere (topic_override_mapping)', async () => {
    const rig = await startRig({ ocpp: { upstream: { topic_override_mapping: { MeterValues: 'cp/${cid}/meter/${action}' } } } });
    const backend = await rig.backend();
    const cp = await rig.charger('TX-ovr');
    const answer = cp.call('MeterValues', { connectorId: 1, meterValue: meterValue(5) });
    const call = await backend.next('ocpp/cp/TX-ovr/meter/MeterValues');
    await backend.send('TX-ovr', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: {} });
    expect(await answer).toEqual({});
    expect(backend.on('ocpp/cp/TX-ovr')).toEqual([]);
  });
});
