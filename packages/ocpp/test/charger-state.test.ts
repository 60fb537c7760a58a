/**
 * The charger state machine in memory: the core with a manual clock, an in-process back end, a
 * fake WebSocket peer. No sockets, no sleeps.
 */
import { BrokerCore, createAdapterContext, type CloseReason, type SessionHandle } from '@junction/broker-core';
import { ManualClock, RecordingSink } from '@junction/broker-core/testing';
import { describe, expect, it } from 'vitest';
import { createGatewayContext } from '../src/adapter.js';
import { OcppCallError } from '../src/charger/call-error.js';
import { Charger } from '../src/charger/charger.js';
import type { ChargerPeer, PeerCallOutcome } from '../src/charger/peer.js';
import { resolveOcppConfig, type OcppConfigInput } from '../src/index.js';

/** A WebSocket peer whose answers the test gives by hand. */
class FakePeer implements ChargerPeer {
  readonly calls: { action: string; payload: unknown; answer: (o: PeerCallOutcome) => void }[] = [];
  readonly closed: CloseReason[] = [];
  call(action: string, payload: unknown): Promise<PeerCallOutcome> {
    return new Promise((answer) => this.calls.push({ action, payload, answer }));
  }
  close(reason: CloseReason): void {
    this.closed.push(reason);
  }
}

const flush = () => new Promise<void>((r) => setImmediate(r));

async function setup(config: OcppConfigInput = {}) {
  const clock = new ManualClock();
  const broker = new BrokerCore({ clock });
  const gw = createGatewayContext(createAdapterContext(broker), resolveOcppConfig(config), clock);
  const sink = new RecordingSink();
  const backend: SessionHandle = await broker.open({ clientId: 'csms', protocol: 'test', peer: '127.0.0.1:1', cleanStart: true, keepalive: 0 }, sink);
  await backend.subscribe([{ filter: 'ocpp/cp/#', qos: 2 }]);
  backend.ready();
  await flush(); // the core looks up retained messages for a new subscription in setImmediate
  const open = async (cid: string, version: '1.6' | '2.0.1' = '1.6') => {
    const charger = new Charger(gw, { clientId: cid, version, subprotocol: `ocpp${version}`, peer: '127.0.0.1:2', listener: 'ws:test' });
    await charger.open({ authenticate: true });
    const peer = new FakePeer();
    charger.attach(peer);
    return { charger, peer };
  };
  const send = (cid: string, m: object) => backend.publish({ topic: `ocpp/cs/${cid}`, payload: Buffer.from(JSON.stringify(m)), qos: 1, retain: false });
  const seen = (topic: string) => sink.deliveries.filter((d) => d.message.topic === topic).map((d) => JSON.parse(d.message.payload.toString()) as Record<string, unknown>);
  return { clock, broker, gw, sink, open, send, seen };
}

describe('charger state, in memory', () => {
  it('an unanswered charger CALL fails with InternalError when upstream.awaiting_timeout passes', async () => {
    const t = await setup({ upstream: { awaiting_timeout: 30_000 } });
    const { charger } = await t.open('M-1');
    const result = charger.onCall({ uniqueId: 'u-1', action: 'Heartbeat', payload: {} }).catch((e: unknown) => e);
    expect(t.seen('ocpp/cp/M-1')).toEqual([{ MessageTypeId: 2, UniqueId: 'u-1', Action: 'Heartbeat', Payload: {} }]);
    t.clock.advance(29_999);
    await flush();
    t.clock.advance(1);
    const err = await result;
    expect(err).toBeInstanceOf(OcppCallError);
    expect(err).toMatchObject({ errorCode: 'InternalError' });
    expect(t.gw.counters.timeouts).toBe(1);
  });

  it('the back end answer resolves the CALL; an accepted BootNotification sets the keepalive', async () => {
    const t = await setup({ default_heartbeat_interval: 60_000, heartbeat_checking_times_backoff: 2 });
    const { charger, peer } = await t.open('M-2');
    const result = charger.onCall({ uniqueId: 'b-1', action: 'BootNotification', payload: { chargePointVendor: 'V', chargePointModel: 'M' } });
    t.send('M-2', { MessageTypeId: 3, UniqueId: 'b-1', Payload: { status: 'Accepted', currentTime: new Date(t.clock.now()).toISOString(), interval: 10 } });
    expect(await result).toMatchObject({ interval: 10 });
    expect(charger.heartbeatInterval).toBe(10);
    // Silence for 2 x 10 s is the limit.
    t.clock.advance(19_000);
    expect(peer.closed).toEqual([]);
    t.clock.advance(1_000);
    expect(peer.closed).toEqual(['keepalive_timeout']);
    const events = t.seen('ocpp/cp/M-2/Connection');
    expect(events.map((e) => e.event)).toEqual(['connected', 'disconnected']);
    expect(events[1]).toMatchObject({ reason: 'keepalive_timeout', disconnected_at: t.clock.now() });
  });

  it('back-end CALLs go to the peer one at a time; answers and failures are published in order', async () => {
    const t = await setup({ dnstream: { max_mqueue_len: 2 } });
    const { peer } = await t.open('M-3');
    for (const id of ['c-1', 'c-2', 'c-3', 'c-4']) t.send('M-3', { MessageTypeId: 2, UniqueId: id, Action: 'ClearCache', Payload: {} });
    await flush();
    expect(peer.calls).toHaveLength(1);
    expect(t.seen('ocpp/cp/M-3/Reply')).toMatchObject([{ UniqueId: 'c-4', ErrorDetails: { reason: 'queue_full' } }]);
    peer.calls[0]!.answer({ ok: true, payload: { status: 'Accepted' } });
    await flush();
    expect(peer.calls).toHaveLength(2);
    peer.calls[1]!.answer({ ok: false, kind: 'callerror', code: 'NotSupported', description: 'no', details: {} });
    await flush();
    peer.calls[2]!.answer({ ok: false, kind: 'timeout' });
    await flush();
    expect(t.seen('ocpp/cp/M-3/Reply').map((m) => [m.UniqueId, m.MessageTypeId, m.ErrorCode ?? null])).toEqual([
      ['c-4', 4, 'GenericError'],
      ['c-1', 3, null],
      ['c-2', 4, 'NotSupported'],
      ['c-3', 4, 'GenericError'],
    ]);
    expect(t.gw.counters).toMatchObject({ dnstream_calls: 3, dnstream_refused: 1, timeouts: 1 });
  });

  it('a takeover closes the old charger, reports its queued CALLs and announces it before the new one', async () => {
    const t = await setup();
    const first = await t.open('M-4');
    t.send('M-4', { MessageTypeId: 2, UniqueId: 'q-1', Action: 'ClearCache', Payload: {} });
    t.send('M-4', { MessageTypeId: 2, UniqueId: 'q-2', Action: 'ClearCache', Payload: {} });
    await flush();
    await t.open('M-4');
    expect(first.peer.closed).toEqual(['takeover']);
    expect(first.charger.closed).toBe(true);
    first.peer.calls[0]!.answer({ ok: false, kind: 'closed' });
    await flush();
    expect(t.seen('ocpp/cp/M-4/Reply').map((m) => [m.UniqueId, (m.ErrorDetails as { reason: string }).reason])).toEqual([
      ['q-2', 'disconnected'],
      ['q-1', 'disconnected'],
    ]);
    expect(t.seen('ocpp/cp/M-4/Connection').map((e) => [e.event, e.reason])).toEqual([
      ['connected', undefined],
      ['disconnected', 'takeover'],
      ['connected', undefined],
    ]);
  });
});
