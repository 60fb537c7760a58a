import { afterEach, describe, expect, it } from 'vitest';
import { bootPayload16, bootPayload201, now, startRig, stopRigs, type Backend, type Charger } from './helpers.js';

afterEach(stopRigs);

function closeOf(cp: Charger): Promise<{ code: number; reason: string; at: number }> {
  return new Promise((resolve) => cp.once('close', (e: { code: number; reason: string }) => resolve({ ...e, at: Date.now() })));
}

async function boot(backend: Backend, cp: Charger, cid: string, reply: Record<string, unknown>, payload: unknown = bootPayload16): Promise<void> {
  const answer = cp.call('BootNotification', payload);
  const call = await backend.next(`ocpp/cp/${cid}`, { Action: 'BootNotification' });
  await backend.send(cid, { MessageTypeId: 3, UniqueId: call.json.UniqueId, Payload: reply });
  await answer;
}

describe('heartbeat and liveness', () => {
  it('Heartbeat CALLs are forwarded and answered like any other (1.6 and 2.0.1)', async () => {
    const rig = await startRig();
    const backend = await rig.backend();
    backend.answer('Heartbeat', () => ({ currentTime: '2024-01-01T00:00:00Z' }));
    const cp16 = await rig.charger('HB-16');
    const cp201 = await rig.charger('HB-201', { protocol: 'ocpp2.0.1' });
    expect(await cp16.call('Heartbeat', {})).toEqual({ currentTime: '2024-01-01T00:00:00Z' });
    expect(await cp201.call('Heartbeat', {})).toEqual({ currentTime: '2024-01-01T00:00:00Z' });
    expect(backend.on('ocpp/cp/HB-16')[0]?.json).toMatchObject({ MessageTypeId: 2, Action: 'Heartbeat', Payload: {} });
  });

  it('a charger silent for default_heartbeat_interval is disconnected with keepalive_timeout', async () => {
    const rig = await startRig({ ocpp: { default_heartbeat_interval: 300 } });
    const backend = await rig.backend();
    const start = Date.now();
    const cp = await rig.charger('HB-idle');
    const closed = await closeOf(cp);
    expect(closed).toMatchObject({ code: 1001, reason: 'keepalive_timeout' });
    expect(closed.at - start).toBeGreaterThanOrEqual(250);
    const ev = await backend.next('ocpp/cp/HB-idle/Connection', { event: 'disconnected' });
    expect(ev.json.reason).toBe('keepalive_timeout');
  });

  it('traffic from the charger keeps it connected', async () => {
    const rig = await startRig({ ocpp: { default_heartbeat_interval: 1000 } });
    const backend = await rig.backend();
    backend.answer('Heartbeat', () => ({ currentTime: now() }));
    const cp = await rig.charger('HB-alive');
    // 1.5 intervals of calls 150 ms apart: the connection outlives the interval.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 150));
      await cp.call('Heartbeat', {});
    }
    expect(rig.gateway.stats().connections).toBe(1);
  });

  it('heartbeat_checking_times_backoff multiplies the silence allowed', async () => {
    const rig = await startRig({ ocpp: { default_heartbeat_interval: 250, heartbeat_checking_times_backoff: 3 } });
    const start = Date.now();
    const cp = await rig.charger('HB-backoff');
    const closed = await closeOf(cp);
    expect(closed.reason).toBe('keepalive_timeout');
    expect(closed.at - start).toBeGreaterThanOrEqual(650);
  });

  it('an accepted BootNotification sets the interval the gateway expects (1.6)', async () => {
    const rig = await startRig({ ocpp: { default_heartbeat_interval: 60_000 } });
    const backend = await rig.backend();
    const cp = await rig.charger('HB-boot');
    const closing = closeOf(cp);
    const booted = Date.now();
    await boot(backend, cp, 'HB-boot', { status: 'Accepted', currentTime: now(), interval: 1 });
    const closed = await closing;
    expect(closed.reason).toBe('keepalive_timeout');
    expect(closed.at - booted).toBeGreaterThanOrEqual(900);
    expect(closed.at - booted).toBeLessThan(5000);
  });

  it('an accepted BootNotification sets the interval (2.0.1); Pending leaves the default', async () => {
    const rig = await startRig({ ocpp: { default_heartbeat_interval: 60_000 } });
    const backend = await rig.backend();
    const pending = await rig.charger('HB-pending', { protocol: 'ocpp2.0.1' });
    await boot(backend, pending, 'HB-pending', { status: 'Pending', currentTime: now(), interval: 1 }, bootPayload201);
    const cp = await rig.charger('HB-201b', { protocol: 'ocpp2.0.1' });
    const closing = closeOf(cp);
    await boot(backend, cp, 'HB-201b', { status: 'Accepted', currentTime: now(), interval: 1 }, bootPayload201);
    expect((await closing).reason).toBe('keepalive_timeout');
    expect(pending.state).toBe(1); // still OPEN after the other one timed out
  });

  it('ChangeConfiguration HeartbeatInterval accepted by the charger changes the interval (1.6)', async () => {
    const rig = await startRig({ ocpp: { default_heartbeat_interval: 60_000 } });
    const backend = await rig.backend();
    const cp = await rig.charger('HB-conf');
    cp.handle('ChangeConfiguration', () => ({ status: 'Accepted' }));
    const closing = closeOf(cp);
    await backend.send('HB-conf', { MessageTypeId: 2, UniqueId: 'cfg-1', Action: 'ChangeConfiguration', Payload: { key: 'HeartbeatInterval', value: '1' } });
    await backend.next('ocpp/cp/HB-conf/Reply', { UniqueId: 'cfg-1' });
    expect((await closing).reason).toBe('keepalive_timeout');
  });

  it('SetVariables HeartbeatCtrlr.Interval accepted by the charger changes the interval (2.0.1)', async () => {
    const rig = await startRig({ ocpp: { default_heartbeat_interval: 60_000 } });
    const backend = await rig.backend();
    const cp = await rig.charger('HB-setvar', { protocol: 'ocpp2.0.1' });
    cp.handle('SetVariables', () => ({
      setVariableResult: [{ attributeStatus: 'Accepted', component: { name: 'HeartbeatCtrlr' }, variable: { name: 'Interval' } }],
    }));
    const closing = closeOf(cp);
    await backend.send('HB-setvar', {
      MessageTypeId: 2,
      UniqueId: 'sv-1',
      Action: 'SetVariables',
      Payload: { setVariableData: [{ attributeValue: '1', component: { name: 'HeartbeatCtrlr' }, variable: { name: 'Interval' } }] },
    });
    await backend.next('ocpp/cp/HB-setvar/Reply', { UniqueId: 'sv-1' });
    expect((await closing).reason).toBe('keepalive_timeout');
  });
});
