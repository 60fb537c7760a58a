/**
 * Schema validation against the official OCPP JSON schemas, per direction
 * (`message_format_checking`), and what each side is told when a message is invalid.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bootPayload16, rpcErrorOf, startRig, stopRigs } from './helpers.js';

afterEach(stopRigs);

/** Lets messages already in flight arrive, by a round trip through the broker. */
async function settle(backend: { client: { publishAsync(t: string, p: string, o: object): Promise<unknown> } }): Promise<void> {
  await backend.client.publishAsync('settle/barrier', '', { qos: 2 });
  await new Promise((r) => setTimeout(r, 50));
}

describe('upstream validation (charger -> back end)', () => {
  it('OCPP 1.6: a CALL missing a required field gets a CALLERROR with the precise code and is not published', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('V-16');
    const err = await rpcErrorOf(cp.call('BootNotification', { chargePointVendor: 'J' }));
    expect(err.code).toBe('OccurrenceConstraintViolation');
    expect(err.message).toMatch(/chargePointModel/);
    await settle(backend);
    expect(backend.on('ocpp/cp/V-16')).toEqual([]);
    expect(rig.gateway.stats()).toMatchObject({ upstream_calls: 0, upstream_refused: 1 });
  });

  it('OCPP 1.6: a value of the wrong format gets FormationViolation (the 1.6 spelling)', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('V-16f');
    // idTag is CiString20: too long is a format violation.
    const err = await rpcErrorOf(cp.call('Authorize', { idTag: 'x'.repeat(21) }));
    expect(err.code).toBe('FormationViolation');
    const typeErr = await rpcErrorOf(cp.call('StartTransaction', { connectorId: 'one', idTag: 'T', meterStart: 0, timestamp: new Date().toISOString() }));
    expect(typeErr.code).toBe('TypeConstraintViolation');
    const extra = await rpcErrorOf(cp.call('Heartbeat', { unexpected: true }));
    expect(extra.code).toBe('PropertyConstraintViolation');
    await settle(backend);
    expect(backend.on('ocpp/cp/V-16f')).toEqual([]);
  });

  it('OCPP 2.0.1: a bad TransactionEvent gets FormatViolation / the precise code', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('V-201', { protocol: 'ocpp2.0.1' });
    const bad = await rpcErrorOf(cp.call('TransactionEvent', { eventType: 'Started', timestamp: new Date().toISOString(), triggerReason: 'Authorized', seqNo: 0, transactionInfo: { transactionId: 'x'.repeat(40) } }));
    expect(bad.code).toBe('FormatViolation');
    const enumErr = await rpcErrorOf(cp.call('TransactionEvent', { eventType: 'Paused', timestamp: new Date().toISOString(), triggerReason: 'Authorized', seqNo: 0, transactionInfo: { transactionId: 't' } }));
    expect(enumErr.code).toBe('FormatViolation');
    await settle(backend);
    expect(backend.on('ocpp/cp/V-201')).toEqual([]);
  });

  it('an unknown action gets NotImplemented and is not published', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp16 = await rig.charger('V-unk');
    const cp201 = await rig.charger('V-unk2', { protocol: 'ocpp2.0.1' });
    expect((await rpcErrorOf(cp16.call('FlyToTheMoon', {}))).code).toBe('NotImplemented');
    // 2.0.1-only action on a 1.6 connection, and the other way round.
    expect((await rpcErrorOf(cp16.call('TransactionEvent', {}))).code).toBe('NotImplemented');
    expect((await rpcErrorOf(cp201.call('StartTransaction', {}))).code).toBe('NotImplemented');
    await settle(backend);
    expect(backend.on('ocpp/cp/V-unk')).toEqual([]);
    expect(backend.on('ocpp/cp/V-unk2')).toEqual([]);
  });

  it('a CALL frame without a Payload is refused even with checking disabled', async () => {
    const rig = await startRig({ ocpp: { message_format_checking: 'disable' } });
    const backend = await rig.backend();
    const cp = await rig.charger('V-nopl');
    const answer = new Promise<unknown[]>((resolve) =>
      cp.on('message', ({ message, outbound }: { message: string; outbound: boolean }) => {
        const m = JSON.parse(message) as unknown[];
        if (!outbound && m[1] === 'np-1') resolve(m);
      }),
    );
    cp.sendRaw(JSON.stringify([2, 'np-1', 'Heartbeat']));
    expect(await answer).toEqual([4, 'np-1', 'FormationViolation', expect.any(String), {}]);
    await settle(backend);
    expect(backend.on('ocpp/cp/V-nopl')).toEqual([]);
  });

  it('a second CALL while one awaits its answer is refused (one outstanding CALL per direction)', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('V-two', { protocol: 'ocpp2.0.1' });
    // RPCClient itself queues calls (callConcurrency 1); send the second frame raw.
    const first = cp.call('Heartbeat', {});
    const call = await backend.next('ocpp/cp/V-two', { Action: 'Heartbeat' });
    const refused = new Promise<unknown[]>((resolve) =>
      cp.on('badMessage', () => {}).on('message', ({ message, outbound }: { message: string; outbound: boolean }) => {
        const m = JSON.parse(message) as unknown[];
        if (!outbound && m[1] === 'raw-2') resolve(m);
      }),
    );
    cp.sendRaw(JSON.stringify([2, 'raw-2', 'Heartbeat', {}]));
    expect(await refused).toEqual([4, 'raw-2', 'RpcFrameworkError', expect.stringContaining('one CALL at a time'), {}]);
    await backend.send('V-two', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: { currentTime: new Date().toISOString() } });
    await first;
    expect(backend.on('ocpp/cp/V-two')).toHaveLength(1);
  });

  it('an invalid back-end answer is reported on the reply topic and the charger keeps waiting for a valid one', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('V-ans');
    const answer = cp.call('BootNotification', bootPayload16);
    const call = await backend.next('ocpp/cp/V-ans', { Action: 'BootNotification' });
    await backend.send('V-ans', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: { status: 'Maybe', currentTime: 'now', interval: 60 } });
    const report = await backend.next('ocpp/cp/V-ans/Reply', { MessageTypeId: 4 });
    expect(report.json).toMatchObject({ UniqueId: call.json.UniqueId, Action: 'BootNotification', ErrorCode: 'FormationViolation', ErrorDetails: { source: 'gateway', reason: 'validation_failed' } });
    await backend.send('V-ans', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 60 } });
    expect(await answer).toMatchObject({ status: 'Accepted' });
  });

  it('an invalid CALLRESULT from the charger is reported instead of forwarded', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('V-res');
    cp.handle('RemoteStopTransaction', () => ({ status: 'Perhaps' }));
    await backend.send('V-res', { MessageTypeId: 2, UniqueId: 'st-1', Action: 'RemoteStopTransaction', Payload: { transactionId: 1 } });
    const report = await backend.next('ocpp/cp/V-res/Reply', { UniqueId: 'st-1' });
    expect(report.json).toMatchObject({ MessageTypeId: 4, ErrorCode: 'FormationViolation', ErrorDetails: { source: 'gateway', reason: 'validation_failed' } });
  });
});

describe('downstream validation (back end -> charger)', () => {
  it('an invalid CALL from the back end is reported on the reply topic and never reaches the charger', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    const cp = await rig.charger('D-inv');
    const got: unknown[] = [];
    cp.handle(({ method }: { method: string }) => {
      got.push(method);
      return {};
    });
    await backend.send('D-inv', { MessageTypeId: 2, UniqueId: 'bad-1', Action: 'RemoteStartTransaction', Payload: { connectorId: 1 } });
    const report = await backend.next('ocpp/cp/D-inv/Reply', { UniqueId: 'bad-1' });
    expect(report.json).toMatchObject({
      MessageTypeId: 4,
      Action: 'RemoteStartTransaction',
      ErrorCode: 'OccurrenceConstraintViolation',
      ErrorDetails: { source: 'gateway', reason: 'validation_failed', errors: [{ keyword: 'required' }] },
    });
    await backend.send('D-inv', { MessageTypeId: 2, UniqueId: 'bad-2', Action: 'NoSuchAction', Payload: {} });
    const unknown = await backend.next('ocpp/cp/D-inv/Reply', { UniqueId: 'bad-2' });
    expect(unknown.json).toMatchObject({ ErrorCode: 'NotImplemented', ErrorDetails: { reason: 'validation_failed' } });
    expect(got).toEqual([]);
  });

  it.each([
    ['not JSON', 'this is not json', ''],
    ['not an object', '[2,"x","Reset",{}]', ''],
    ['no MessageTypeId', '{"UniqueId":"m-1","Action":"Reset","Payload":{}}', 'm-1'],
    ['a CALL without Action', '{"MessageTypeId":2,"UniqueId":"m-2","Payload":{}}', 'm-2'],
    ['a CALLERROR without ErrorCode', '{"MessageTypeId":4,"UniqueId":"m-3"}', 'm-3'],
  ])('%s is reported as invalid_message', async (_what, payload, uniqueId) => {
    const rig = await startRig();
    const backend = await rig.backend();
    await rig.charger('D-fmt', { protocol: 'ocpp2.0.1' });
    await backend.send('D-fmt', payload);
    const report = await backend.next('ocpp/cp/D-fmt/Reply', { MessageTypeId: 4 });
    expect(report.json).toMatchObject({ UniqueId: uniqueId, ErrorCode: 'FormatViolation', ErrorDetails: { source: 'gateway', reason: 'invalid_message' } });
  });

  it('an answer with a UniqueId no CALL awaits is reported as unknown_unique_id', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    await rig.charger('D-uid');
    await backend.send('D-uid', { MessageTypeId: 3, UniqueId: 'nobody', Payload: {} });
    const report = await backend.next('ocpp/cp/D-uid/Reply', { UniqueId: 'nobody' });
    expect(report.json).toMatchObject({ MessageTypeId: 4, ErrorCode: 'GenericError', ErrorDetails: { source: 'gateway', reason: 'unknown_unique_id' } });
  });
});

describe('message_format_checking', () => {
  it('disable: invalid CALLs and unknown actions pass both ways', async () => {
    const rig = await startRig({ ocpp: { message_format_checking: 'disable' } });
    const backend = await rig.backend();
    const cp = await rig.charger('M-off');
    cp.handle('VendorThing', () => ({ ok: true }));
    const answer = cp.call('BootNotification', { chargePointVendor: 'J' });
    const call = await backend.next('ocpp/cp/M-off', { Action: 'BootNotification' });
    await backend.send('M-off', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: { whatever: 1 } });
    expect(await answer).toEqual({ whatever: 1 });
    await backend.send('M-off', { MessageTypeId: 2, UniqueId: 'v-1', Action: 'VendorThing', Payload: { x: 1 } });
    expect((await backend.next('ocpp/cp/M-off/Reply', { UniqueId: 'v-1' })).json.Payload).toEqual({ ok: true });
  });

  it('upstream_only: charger CALLs are checked, back-end CALLs are not', async () => {
    const rig = await startRig({ ocpp: { message_format_checking: 'upstream_only' } });
    const backend = await rig.backend();
    const cp = await rig.charger('M-up');
    cp.handle('RemoteStartTransaction', () => ({ status: 'Rejected' }));
    expect((await rpcErrorOf(cp.call('BootNotification', {}))).code).toBe('OccurrenceConstraintViolation');
    await backend.send('M-up', { MessageTypeId: 2, UniqueId: 'u-1', Action: 'RemoteStartTransaction', Payload: { connectorId: 'one' } });
    expect((await backend.next('ocpp/cp/M-up/Reply', { UniqueId: 'u-1' })).json).toMatchObject({ MessageTypeId: 3, Payload: { status: 'Rejected' } });
  });

  it('dnstream_only: back-end CALLs are checked, charger CALLs are not', async () => {
    const rig = await startRig({ ocpp: { message_format_checking: 'dnstream_only' } });
    const backend = await rig.backend();
    const cp = await rig.charger('M-dn');
    const pass = cp.call('BootNotification', {});
    const call = await backend.next('ocpp/cp/M-dn', { Action: 'BootNotification' });
    await backend.send('M-dn', { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: { status: 'Accepted', currentTime: new Date().toISOString(), interval: 10 } });
    expect(await pass).toMatchObject({ status: 'Accepted' });
    await backend.send('M-dn', { MessageTypeId: 2, UniqueId: 'd-1', Action: 'RemoteStartTransaction', Payload: { connectorId: 'one' } });
    expect((await backend.next('ocpp/cp/M-dn/Reply', { UniqueId: 'd-1' })).json).toMatchObject({ MessageTypeId: 4, ErrorDetails: { reason: 'validation_failed' } });
  });

  it('json_schema_dir replaces the OCPP 1.6 schemas with EMQX-style files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocpp-schemas-'));
    const schema = (id: string, body: object) => JSON.stringify({ $schema: 'http://json-schema.org/draft-04/schema#', id: `urn:OCPP:1.6:2019:12:${id}`, ...body });
    writeFileSync(join(dir, 'Heartbeat.json'), schema('HeartbeatRequest', { type: 'object', properties: { note: { type: 'string', maxLength: 4 } }, additionalProperties: false }));
    writeFileSync(join(dir, 'HeartbeatResponse.json'), schema('HeartbeatResponse', { type: 'object', required: ['currentTime'] }));
    const rig = await startRig({ ocpp: { json_schema_dir: dir } });
    const backend = await rig.backend();
    backend.answer('Heartbeat', () => ({ currentTime: new Date().toISOString() }));
    const cp = await rig.charger('M-dir');
    expect(await cp.call('Heartbeat', { note: 'ok' })).toHaveProperty('currentTime');
    expect((await rpcErrorOf(cp.call('Heartbeat', { note: 'too long' }))).code).toBe('FormationViolation');
    // Only what the directory defines is known.
    expect((await rpcErrorOf(cp.call('BootNotification', bootPayload16))).code).toBe('NotImplemented');
  });
});
