import type { Message } from '@junction/broker-core';
import { eventually } from '@junction/test-servers';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, LocalHub, memoryPorts, type ToWorker, type WorkerPort } from '../src/index.js';
import { forEachFrame, FrameBatch } from '../src/local/batch.js';

/** The hub alone, driven through raw worker ports: what each worker is sent. */
const hubs: LocalHub[] = [];
afterEach(() => {
  for (const h of hubs.splice(0)) h.close();
});

function setup(n: number, opts: { handoverTimeout?: number } = {}) {
  const hub = new LocalHub(opts);
  hubs.push(hub);
  const workers = Array.from({ length: n }, (_, i) => {
    const ports = memoryPorts();
    hub.addWorker(i + 1, ports.hub);
    const got: ToWorker[] = [];
    ports.worker.onMessage((m) => got.push(m));
    return { port: ports.worker as WorkerPort, got };
  });
  return { hub, workers };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

function msg(topic: string): Message {
  return { topic, payload: Buffer.from(topic), qos: 0, retain: false, from: { clientId: 'p', protocol: 'mqtt', node: 'n' }, timestamp: 1 };
}

function fwd(topics: string[]) {
  const b = new FrameBatch();
  for (const [i, t] of topics.entries()) b.add(encodeFrame(msg(t), Buffer.alloc(8), i + 1));
  return { k: 'fwd' as const, topics, data: b.take() };
}

/** Topics of the frames sent to a worker as `dlv` (or `shr`). */
function topicsIn(got: ToWorker[], kind: 'dlv' | 'shr'): string[] {
  const out: string[] = [];
  for (const m of got) if (m.k === kind) forEachFrame(m.data, (f) => out.push(decodeFrame(f).message.topic));
  return out;
}

describe('LocalHub', () => {
  it('sends a worker only the messages its filter union matches, once, never back to the sender', async () => {
    const { hub, workers } = setup(3);
    const [w1, w2, w3] = workers as [(typeof workers)[0], (typeof workers)[0], (typeof workers)[0]];
    w1.port.send({ k: 'sub', f: 'a/#' });
    w1.port.send({ k: 'sub', f: 'a/+' });
    w2.port.send({ k: 'sub', f: 'b/#' });
    w3.port.send({ k: 'sub', f: '#' });
    await tick();
    w3.port.send(fwd(['a/x', 'b/y', 'c/z', '$app/q']));
    await tick();
    expect(topicsIn(w1.got, 'dlv')).toEqual(['a/x']);
    expect(topicsIn(w2.got, 'dlv')).toEqual(['b/y']);
    expect(topicsIn(w3.got, 'dlv')).toEqual([]);
    expect(hub.stats()).toMatchObject({ routed: 4, delivered: 2, unmatched: 2 });
    w1.port.send({ k: 'unsub', f: 'a/#' });
    w1.port.send({ k: 'unsub', f: 'a/+' });
    w3.port.send(fwd(['a/x']));
    await tick();
    expect(topicsIn(w1.got, 'dlv')).toEqual(['a/x']);
  });

  it('gives each message of a shared group to one worker in turn, the sender included', async () => {
    const { workers } = setup(2);
    const [w1, w2] = workers as [(typeof workers)[0], (typeof workers)[0]];
    w1.port.send({ k: 'sub', f: 'j/#', g: 'g' });
    w2.port.send({ k: 'sub', f: 'j/#', g: 'g' });
    await tick();
    w1.port.send(fwd(['j/1', 'j/2', 'j/3', 'j/4']));
    await tick();
    const one = topicsIn(w1.got, 'shr');
    const two = topicsIn(w2.got, 'shr');
    expect([...one, ...two].sort()).toEqual(['j/1', 'j/2', 'j/3', 'j/4']);
    expect(one).toHaveLength(2);
    const shr = w2.got.find((m) => m.k === 'shr') as Extract<ToWorker, { k: 'shr' }>;
    expect(shr.filters.every((f) => f === 'j/#') && shr.groups.every((g) => g === 'g')).toBe(true);
  });

  it('asks the previous owner of a client id to hand it over, and releases only for the owner', async () => {
    const { workers } = setup(2);
    const [w1, w2] = workers as [(typeof workers)[0], (typeof workers)[0]];
    w1.port.send({ k: 'claim', id: 1, cid: 'c', clean: false });
    await tick();
    expect(w1.got).toContainEqual({ k: 'claimed', id: 1 });
    w2.port.send({ k: 'claim', id: 7, cid: 'c', clean: false });
    await tick();
    const ask = w1.got.find((m) => m.k === 'handover') as Extract<ToWorker, { k: 'handover' }>;
    expect(ask).toMatchObject({ cid: 'c', resume: true });
    const snap = { session: { clientId: 'c', expiryInterval: 60, subscriptions: [{ filter: 'x', qos: 1 as const }] }, deliveries: [] };
    w1.port.send({ k: 'handedOver', id: ask.id, snap });
    await tick();
    expect(w2.got).toContainEqual({ k: 'claimed', id: 7, snap });
    // A late release from the old owner does not free the client id: w2 owns it.
    w1.port.send({ k: 'release', cid: 'c' });
    w1.port.send({ k: 'claim', id: 2, cid: 'c', clean: true });
    await tick();
    expect(w2.got.find((m) => m.k === 'handover')).toMatchObject({ cid: 'c', resume: false });
  });

  it('goes on when the owner does not answer a handover', async () => {
    const { workers } = setup(2, { handoverTimeout: 100 });
    const [w1, w2] = workers as [(typeof workers)[0], (typeof workers)[0]];
    w1.port.send({ k: 'claim', id: 1, cid: 'mute', clean: true });
    await tick();
    w2.port.send({ k: 'claim', id: 2, cid: 'mute', clean: true });
    // After the handover timeout (100 ms), however late the timer fires on a busy machine.
    await eventually(() => w2.got.some((m) => m.k === 'claimed' && m.id === 2), 5000, 'the claim granted');
    expect(w2.got).toContainEqual({ k: 'claimed', id: 2 });
  });

  it('survives malformed messages from a worker', async () => {
    const { hub, workers } = setup(2);
    const [w1, w2] = workers as [(typeof workers)[0], (typeof workers)[0]];
    w2.port.send({ k: 'sub', f: 'ok/#' });
    await tick();
    w1.port.send({ k: 'fwd', topics: ['ok/1'], data: new Uint8Array([0, 0, 0, 99, 1, 2]) });
    w1.port.send({ k: 'ret', data: new Uint8Array([7, 7, 7]) });
    w1.port.send({ k: 'fwd', topics: [], data: undefined as unknown as Uint8Array });
    w1.port.send(fwd(['ok/2']));
    await tick();
    expect(topicsIn(w2.got, 'dlv')).toEqual(['ok/2']);
    expect(hub.stats().retained).toBe(0);
  });

  it('keeps retained messages for workers that join later, and refuses new topics beyond the limit', async () => {
    const hub = new LocalHub({ maxRetained: 1 });
    hubs.push(hub);
    const a = memoryPorts();
    hub.addWorker(1, a.hub);
    const gotA: ToWorker[] = [];
    a.worker.onMessage((m) => gotA.push(m));
    a.worker.send({ k: 'ret', data: encodeFrame({ ...msg('r/1'), retain: true }, Buffer.alloc(8), 0) });
    a.worker.send({ k: 'ret', data: encodeFrame({ ...msg('r/2'), retain: true }, Buffer.alloc(8), 0) });
    await tick();
    // Echoed to the writer too (every mirror applies writes in the hub's order); r/2 undone.
    expect(gotA.map((m) => m.k)).toEqual(['ret', 'retDel']);
    const b = memoryPorts();
    hub.addWorker(2, b.hub);
    const gotB: ToWorker[] = [];
    b.worker.onMessage((m) => gotB.push(m));
    b.worker.send({ k: 'hello' });
    await tick();
    const welcome = gotB.find((m) => m.k === 'welcome') as Extract<ToWorker, { k: 'welcome' }>;
    const topics: string[] = [];
    forEachFrame(welcome.data, (f) => topics.push(decodeFrame(f).message.topic));
    expect(topics).toEqual(['r/1']);
  });
});
