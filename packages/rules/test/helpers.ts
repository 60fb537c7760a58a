import { BrokerCore, type BrokerOptions, type ConnectInfo, type PublishRequest, type SessionHandle } from '@junction/broker-core';
import { ManualClock, RecordingSink } from '@junction/broker-core/testing';
import { installRules, type RulesConfigInput, type RulesHandle, type Statement, type Expr } from '../src/index.js';

export interface TestClient {
  handle: SessionHandle;
  sink: RecordingSink;
}

/** A broker on a manual clock with the rule engine installed. */
export function setup(config: RulesConfigInput = {}, opts: BrokerOptions = {}): { broker: BrokerCore; clock: ManualClock; rules: RulesHandle } {
  const clock = new ManualClock();
  const broker = new BrokerCore({ clock, config: { allow_anonymous: true }, ...opts });
  return { broker, clock, rules: installRules(broker, config) };
}

export async function connect(broker: BrokerCore, clientId: string, info: Partial<ConnectInfo> = {}, sink = new RecordingSink()): Promise<TestClient> {
  const handle = await broker.open({ clientId, protocol: 'mqtt', protocolVersion: 5, peer: '127.0.0.1:5000', cleanStart: true, sessionExpiryInterval: 0, keepalive: 60, ...info }, sink);
  handle.ready();
  return { handle, sink };
}

export function msg(topic: string, payload: string | Buffer = 'x', extra: Partial<PublishRequest> = {}): PublishRequest {
  return { topic, payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), qos: 0, retain: false, ...extra };
}

/** Deliveries a sink got, as [topic, payload text]. */
export function received(c: TestClient): [string, string][] {
  return c.sink.messages;
}

export const json = (c: TestClient, i = -1): unknown => JSON.parse(c.sink.deliveries.at(i)!.message.payload.toString());

/** The AST without source positions, for comparisons. */
export function strip<T extends Statement | Expr>(node: T): T {
  return JSON.parse(JSON.stringify(node, (k, v) => (k === 'pos' ? undefined : v))) as T;
}

/** Let promise callbacks (sink results) run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
