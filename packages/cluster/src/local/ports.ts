/**
 * Transports for the in-host link: node:cluster IPC (the real one) and an in-memory pair (tests,
 * several brokers in one process).
 */
import type { Worker } from 'node:cluster';
import { isToHub, isToWorker, type HubPort, type ToHub, type ToWorker, type WorkerPort } from './protocol.js';

/**
 * The worker's end over node:cluster IPC (`process.send`). The primary must fork with
 * `serialization: 'advanced'` so that frames travel as binary. Other messages on the same
 * channel (the gateway's own) are left to their listeners.
 */
export function processWorkerPort(proc: NodeJS.Process = process): WorkerPort {
  if (typeof proc.send !== 'function') throw new Error('not a child process with an IPC channel');
  return {
    send: (msg) => {
      if (proc.connected) proc.send!(msg);
    },
    onMessage: (fn) => {
      const listener = (m: unknown) => {
        if (isToWorker(m)) fn(m);
      };
      proc.on('message', listener);
      return () => proc.off('message', listener);
    },
  };
}

/** The hub's end of one node:cluster worker's channel (in the primary). */
export function clusterHubPort(worker: Worker): HubPort {
  return {
    send: (msg) => {
      if (worker.isConnected()) worker.send(msg);
    },
    onMessage: (fn) => {
      const listener = (m: unknown) => {
        if (isToHub(m)) fn(m);
      };
      worker.on('message', listener);
      return () => worker.off('message', listener);
    },
  };
}

/**
 * Two connected in-memory ends. Each message is copied with `structuredClone` (as IPC would
 * copy it) and delivered asynchronously, in order.
 */
export function memoryPorts(): { worker: WorkerPort; hub: HubPort; close(): void } {
  const toHub = channel<ToHub>();
  const toWorker = channel<ToWorker>();
  return {
    worker: { send: toHub.send, onMessage: toWorker.listen },
    hub: { send: toWorker.send, onMessage: toHub.listen },
    close: () => {
      toHub.close();
      toWorker.close();
    },
  };
}

function channel<T>(): { send(msg: T): void; listen(fn: (msg: T) => void): () => void; close(): void } {
  const listeners = new Set<(msg: T) => void>();
  let queue: T[] = [];
  let scheduled = false;
  let closed = false;
  const flush = () => {
    scheduled = false;
    const batch = queue;
    queue = [];
    for (const m of batch) for (const fn of listeners) fn(m);
  };
  return {
    send: (msg) => {
      if (closed) return;
      queue.push(structuredClone(msg));
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    listen: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    close: () => {
      closed = true;
      queue = [];
      listeners.clear();
    },
  };
}
