import { describe, expect, it } from 'vitest';
import type { ClusterLink, Message, SessionSnapshot } from '../src/index.js';
import { connect, msg, newBroker, tick } from './helpers.js';

/** A link that records what the core tells it; `claimWith` is what the next claim returns. */
class FakeLink implements ClusterLink {
  readonly events: string[] = [];
  readonly forwarded: Message[] = [];
  readonly releasedIds: string[] = [];
  claimWith: SessionSnapshot | undefined;
  interestAdded(filter: string, group: string | undefined): void {
    this.events.push(`+${group ? `${group}:` : ''}${filter}`);
  }
  interestRemoved(filter: string, group: string | undefined): void {
    this.events.push(`-${group ? `${group}:` : ''}${filter}`);
  }
  forward(m: Message): number {
    this.forwarded.push(m);
    return 1;
  }
  async claim(): Promise<SessionSnapshot | undefined> {
    const s = this.claimWith;
    this.claimWith = undefined;
    return s;
  }
  released(clientId: string): void {
    this.releasedIds.push(clientId);
  }
}

describe('cluster seam (ClusterLink)', () => {
  it('reports the filter union only when a filter or shared group gains its first or loses its last local subscriber', async () => {
    const { broker } = newBroker();
    const early = await connect(broker, 'early');
    await early.handle.subscribe([{ filter: 'pre/#', qos: 0 }]);
    const link = new FakeLink();
    broker.attachCluster(link);
    expect(link.events).toEqual(['+pre/#']);
    const a = await connect(broker, 'a');
    const b = await connect(broker, 'b');
    await a.handle.subscribe([{ filter: 'x/+', qos: 0 }, { filter: '$share/g/jobs/#', qos: 1 }]);
    await b.handle.subscribe([{ filter: 'x/+', qos: 1 }, { filter: '$share/g/jobs/#', qos: 1 }, { filter: '$share/h/jobs/#', qos: 1 }]);
    await a.handle.subscribe([{ filter: 'x/+', qos: 2 }]); // replaces: no change of interest
    expect(link.events.splice(0)).toEqual(['+pre/#', '+x/+', '+g:jobs/#', '+h:jobs/#']);
    await a.handle.unsubscribe(['x/+']);
    expect(link.events).toEqual([]);
    await b.handle.unsubscribe(['x/+']);
    b.handle.close('normal'); // a clean session ends with its connection
    expect(link.events).toEqual(['-x/+', '-h:jobs/#']);
    expect(link.releasedIds).toEqual(['b']);
  });

  it('forwards each local publish once, after the publish hooks, never $SYS nor messages from other nodes', async () => {
    const { broker } = newBroker();
    broker.hooks.intercept('message.publish', (m) => ({ ...m, payload: Buffer.from('hooked') }));
    const link = new FakeLink();
    broker.attachCluster(link);
    const sub = await connect(broker, 'sub');
    await sub.handle.subscribe([{ filter: '#', qos: 0 }]);
    const p = await connect(broker, 'p');
    expect(p.handle.publish(msg('a/b', 'raw'))).toEqual({ matched: 2 });
    expect(p.handle.publish(msg('nobody/here'))).toEqual({ matched: 2 });
    broker.publish(msg('$SYS/brokers/x/uptime'));
    expect(link.forwarded.map((m) => [m.topic, m.payload.toString()])).toEqual([
      ['a/b', 'hooked'],
      ['nobody/here', 'hooked'],
    ]);
    const remote: Message = { topic: 'r/1', payload: Buffer.from('from B'), qos: 0, retain: true, from: { clientId: 'x', protocol: 'mqtt', node: 'B' }, timestamp: 1 };
    expect(broker.deliverRemote(remote)).toBe(1);
    expect(link.forwarded).toHaveLength(2);
    expect(await broker.retained.get('r/1')).toBeUndefined();
    expect(sub.sink.messages.at(-1)).toEqual(['r/1', 'from B']);
  });

  it('leaves shared groups to the cluster: local publishes skip them, deliverShared gives one member a copy', async () => {
    const { broker } = newBroker();
    const link = new FakeLink();
    const detach = broker.attachCluster(link);
    const m1 = await connect(broker, 'm1');
    const m2 = await connect(broker, 'm2');
    for (const m of [m1, m2]) await m.handle.subscribe([{ filter: '$share/g/jobs/+', qos: 1 }]);
    const p = await connect(broker, 'p');
    p.handle.publish(msg('jobs/1', 'j1', { qos: 1 }));
    expect(m1.sink.deliveries.length + m2.sink.deliveries.length).toBe(0);
    for (const m of link.forwarded) expect(broker.deliverShared(m, 'jobs/+', 'g')).toBe(true);
    expect(broker.deliverShared(link.forwarded[0]!, 'jobs/+', 'other')).toBe(false);
    expect([...m1.sink.messages, ...m2.sink.messages]).toEqual([['jobs/1', 'j1']]);
    // Detached, the node routes shared groups itself again.
    detach();
    p.handle.publish(msg('jobs/2', 'j2', { qos: 1 }));
    expect([...m1.sink.messages, ...m2.sink.messages]).toHaveLength(2);
  });

  it('adopts a session another node hands over: present, subscribed, with its messages', async () => {
    const { broker: a } = newBroker({ nodeName: 'A' });
    const { broker: b } = newBroker({ nodeName: 'B' });
    const linkB = new FakeLink();
    a.attachCluster(new FakeLink());
    b.attachCluster(linkB);
    const dev = await connect(a, 'dev', { cleanStart: false, sessionExpiryInterval: 300 });
    await dev.handle.subscribe([{ filter: 'cmd/#', qos: 1 }]);
    dev.handle.close('normal');
    const p = await connect(a, 'p');
    p.handle.publish(msg('cmd/1', 'queued', { qos: 1 }));
    expect(a.session('dev')?.queued).toBe(1);

    // B claims the client id: A gives the session up (a live connection would get 'takeover').
    linkB.claimWith = a.handOver('dev', true);
    expect(a.session('dev')).toBeUndefined();
    const moved = await connect(b, 'dev', { cleanStart: false, sessionExpiryInterval: 300 });
    expect(moved.handle.sessionPresent).toBe(true);
    await tick();
    expect(moved.sink.messages).toEqual([['cmd/1', 'queued']]);
    expect(b.session('dev')?.subscriptions).toEqual(['cmd/#']);
    expect(linkB.events).toEqual(['+cmd/#']);
  });

  it('moves unacknowledged QoS 1 deliveries with the session: resent with DUP on the new node', async () => {
    const { broker: a } = newBroker({ nodeName: 'A' });
    const { broker: b } = newBroker({ nodeName: 'B' });
    const linkB = new FakeLink();
    a.attachCluster(new FakeLink());
    b.attachCluster(linkB);
    const dev = await connect(a, 'dev', { cleanStart: false, sessionExpiryInterval: 300 });
    await dev.handle.subscribe([{ filter: 'cmd/#', qos: 1 }]);
    const p = await connect(a, 'p');
    p.handle.publish(msg('cmd/1', 'unacked', { qos: 1 }));
    expect(dev.sink.deliveries).toHaveLength(1);
    linkB.claimWith = a.handOver('dev', true);
    expect(dev.sink.closedBy).toEqual(['takeover']);
    const moved = await connect(b, 'dev', { cleanStart: false, sessionExpiryInterval: 300 });
    const [d] = moved.sink.deliveries;
    expect(d).toMatchObject({ packetId: dev.sink.deliveries[0]!.packetId, dup: true, qos: 1 });
    expect(d!.message.payload.toString()).toBe('unacked');
    expect(moved.handle.ack(d!.packetId, 'puback')).toBe(true);
    expect(b.session('dev')?.inflight).toBe(0);
  });

  it('appends messages another node kept for a session held here: queued offline, sent when connected, in order', async () => {
    const { broker: a, clock } = newBroker({ nodeName: 'A' });
    const { broker: b } = newBroker({ nodeName: 'B', clock });
    a.attachCluster(new FakeLink());
    b.attachCluster(new FakeLink());
    const old = await connect(a, 'dev', { cleanStart: false, sessionExpiryInterval: 300 });
    await old.handle.subscribe([{ filter: 'cmd/#', qos: 2 }]);
    const p = await connect(a, 'p');
    p.handle.publish(msg('cmd/1', 'inflight', { qos: 2 }));
    p.handle.publish(msg('cmd/2', 'released', { qos: 2 }));
    expect(old.handle.ack(old.sink.deliveries[1]!.packetId, 'pubrec')).toBe(true);
    old.handle.close('normal');
    p.handle.publish(msg('cmd/3', 'queued', { qos: 1, properties: { contentType: 'x/y' } }));
    p.handle.publish(msg('cmd/4', 'expires', { qos: 1, properties: { messageExpiryInterval: 1 } }));
    clock.advance(2000);
    const kept = a.sessionRecord('dev', true)!;
    expect(kept.deliveries.map((d) => d.message.topic)).toEqual(['cmd/1', 'cmd/2', 'cmd/3', 'cmd/4']);
    expect(a.session('dev')).toMatchObject({ queued: 2, inflight: 2 }); // a copy: still here

    expect(await b.appendMessages('dev', kept.deliveries)).toBe(false); // B holds no such session
    const dev = await connect(b, 'dev', { cleanStart: false, sessionExpiryInterval: 300 });
    dev.handle.close('normal');
    expect(await b.appendMessages('dev', kept.deliveries)).toBe(true);
    // The one the client acknowledged with PUBREC is not sent again; the expired one is dropped.
    expect(b.session('dev')?.queued).toBe(2);
    const back = await connect(b, 'dev', { cleanStart: false, sessionExpiryInterval: 300 });
    await tick();
    expect(back.sink.messages).toEqual([
      ['cmd/1', 'inflight'],
      ['cmd/3', 'queued'],
    ]);
    expect(back.sink.deliveries.map((d) => [d.qos, d.message.properties?.contentType])).toEqual([
      [2, undefined],
      [1, 'x/y'],
    ]);
    expect(await b.appendMessages('dev', [kept.deliveries[2]!])).toBe(true); // connected: sent at once
    expect(back.sink.messages.at(-1)).toEqual(['cmd/3', 'queued']);
  });

  it('disconnects a connected client with takeover when its session moves', async () => {
    const { broker } = newBroker();
    broker.attachCluster(new FakeLink());
    const dev = await connect(broker, 'dev', { cleanStart: false, sessionExpiryInterval: 60 });
    await dev.handle.subscribe([{ filter: 't', qos: 0 }]);
    const snap = broker.handOver('dev', true);
    expect(dev.sink.closedBy).toEqual(['takeover']);
    expect(snap?.session.subscriptions.map((s) => s.filter)).toEqual(['t']);
    expect(broker.handOver('dev', false)).toBeUndefined();
  });
});
