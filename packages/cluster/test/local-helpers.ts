/** Workers of one host in one process: a LocalHub and brokers linked to it over in-memory ports. */
import { BrokerCore, createAdapterContext, type BrokerOptions } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import { LocalHub, LocalLink, memoryPorts } from '../src/index.js';

export interface TestWorker {
  readonly id: number;
  readonly broker: BrokerCore;
  readonly link: LocalLink;
  readonly url: string;
  /** Stop as asked (the hub forgets it without publishing wills). */
  stop(): Promise<void>;
  /** Die: the hub publishes its clients' wills elsewhere; connections are dropped without wills. */
  crash(): Promise<void>;
}

let nextId = 1;

export async function startWorker(hub: LocalHub, over: BrokerOptions = {}): Promise<TestWorker> {
  const id = nextId++;
  const ports = memoryPorts();
  hub.addWorker(id, ports.hub);
  const link = new LocalLink({ port: ports.worker, requestTimeout: 3000 });
  await link.start();
  const broker = new BrokerCore({ nodeName: 'host', retained: link.retained, ...over });
  link.attach(broker);
  const listeners = tcpListenersFactory.create(createAdapterContext(broker), {
    default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 1000, mountpoint: '' },
  });
  const [info] = await listeners.start();
  let stopped: Promise<void> | undefined;
  const stop = (crashed: boolean) =>
    (stopped ??= (async () => {
      if (crashed) {
        // A dead process sends nothing more: cut the channel first.
        ports.close();
        hub.removeWorker(id, { crashed: true });
      }
      await listeners.stop({ drainMs: 0 });
      await broker.close();
      await link.close();
      if (!crashed) {
        hub.removeWorker(id, { crashed: false });
        ports.close();
      }
    })());
  return { id, broker, link, url: `mqtt://127.0.0.1:${info!.port}`, stop: () => stop(false), crash: () => stop(true) };
}
