import { BrokerCore, type BrokerOptions, type ConnectInfo, type PublishRequest, type SessionHandle } from '../src/index.js';
import { ManualClock, RecordingSink } from '../src/testing/index.js';

export interface TestClient {
  handle: SessionHandle;
  sink: RecordingSink;
}

export function newBroker(opts: BrokerOptions = {}): { broker: BrokerCore; clock: ManualClock } {
  const clock = new ManualClock();
  return { broker: new BrokerCore({ clock, ...opts }), clock };
}

export async function connect(broker: BrokerCore, clientId: string, info: Partial<ConnectInfo> = {}, sink = new RecordingSink()): Promise<TestClient> {
  const handle = await broker.open(
    { clientId, protocol: 'test', peer: '127.0.0.1:1', cleanStart: true, sessionExpiryInterval: 0, keepalive: 0, ...info },
    sink,
  );
  handle.ready();
  return { handle, sink };
}

export function msg(topic: string, payload = 'x', extra: Partial<PublishRequest> = {}): PublishRequest {
  return { topic, payload: Buffer.from(payload), qos: 0, retain: false, ...extra };
}

/** Let setImmediate-scheduled work (retained deliveries) run. */
export const tick = () => new Promise<void>((r) => setImmediate(r));
