/**
 * The per-message cost of the cluster hop, in-process: one publisher session on node A, one
 * subscriber session on node B, both over one local nats-server, against the same two sessions
 * on a single node. QoS 0, 16-byte payloads. Run from the repo root:
 *
 *   node --conditions=@junction/source --import tsx packages/cluster/bench/cluster-hop.ts [count]
 */
import { BrokerCore, type Delivery, type DeliverySink } from '@junction/broker-core';
import { startNatsCluster } from '@junction/test-servers';
import { ClusterNode, decodeFrame, encodeFrame, topicToSubject } from '../src/index.js';

const N = Number(process.argv[2] ?? 100_000);
const payload = Buffer.alloc(16, 1);

class CountingSink implements DeliverySink {
  n = 0;
  done: () => void = () => {};
  deliver(_d: Delivery): boolean {
    if (++this.n === N) this.done();
    return true;
  }
  resendPubrel(): void {}
  closeBy(): void {}
}

async function session(broker: BrokerCore, clientId: string, sink: DeliverySink) {
  const h = await broker.open({ clientId, protocol: 'bench', peer: '127.0.0.1:1', cleanStart: true, keepalive: 0 }, sink);
  h.ready();
  return h;
}

async function run(pubBroker: BrokerCore, subBroker: BrokerCore, settle: () => Promise<void>): Promise<number> {
  const sink = new CountingSink();
  const sub = await session(subBroker, 'sub', sink);
  await sub.subscribe([{ filter: 'bench/+', qos: 0 }]);
  await settle();
  const pub = await session(pubBroker, 'pub', new CountingSink());
  const finished = new Promise<void>((r) => (sink.done = r));
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    pub.publish({ topic: 'bench/x', payload, qos: 0, retain: false });
    // Let NATS I/O run now and then, as a real event loop would between socket reads.
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await finished;
  const ns = Number(process.hrtime.bigint() - t0);
  pub.close('normal');
  sub.close('normal');
  return ns / N;
}

function codecCost(): number {
  const origin = Buffer.alloc(8);
  const msg = { topic: 'bench/x', payload, qos: 0 as const, retain: false, from: { clientId: 'pub', protocol: 'mqtt', node: 'a' }, timestamp: Date.now() };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) decodeFrame(encodeFrame(msg, origin, i));
  return Number(process.hrtime.bigint() - t0) / N;
}

const single = new BrokerCore();
const local = await run(single, single, async () => {});
await single.close();

const nats = await startNatsCluster(1);
try {
  const [ca, cb] = [await ClusterNode.start({ nodeName: 'a', config: { servers: nats.urls } }), await ClusterNode.start({ nodeName: 'b', config: { servers: nats.urls } })];
  const a = new BrokerCore({ nodeName: 'a', retained: ca.retained });
  const b = new BrokerCore({ nodeName: 'b', retained: cb.retained });
  await ca.attach(a);
  await cb.attach(b);
  const hop = await run(a, b, () => cb.flush());
  await a.close();
  await b.close();
  await ca.close();
  await cb.close();
  const codec = codecCost();
  console.log(JSON.stringify({ messages: N, subject: topicToSubject('junction', 'bench/x'), singleNodeNsPerMsg: Math.round(local), clusterHopNsPerMsg: Math.round(hop), hopOverheadNsPerMsg: Math.round(hop - local), frameEncodeDecodeNsPerMsg: Math.round(codec), clusterMsgsPerSec: Math.round(1e9 / hop), singleNodeMsgsPerSec: Math.round(1e9 / local) }));
} finally {
  await nats.stop();
}
