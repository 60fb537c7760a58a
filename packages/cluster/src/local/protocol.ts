/**
 * The messages between the workers of one host and their hub (the primary process). Every
 * message is a plain object with a `k` discriminator, so it survives both node:cluster IPC
 * (`serialization: 'advanced'`: Buffers arrive as Uint8Array) and `structuredClone`.
 *
 * Messages travel as frames (`../frame.ts`); several of them in one `Uint8Array` as
 * `(u32 length, frame)*` (see `batch.ts`): one IPC message per event-loop turn, not per publish.
 */
import type { WireSnapshot } from '../snapshot-wire.js';

/** Worker to hub. */
export type ToHub =
  /** A worker starts: the hub answers `welcome` with every retained message. */
  | { k: 'hello' }
  /**
   * The worker's filter union gained / lost a filter (`g`: a shared group on it); a `sub` is
   * answered by `subbed` with its `id` once the hub routes by it.
   */
  | { k: 'sub'; f: string; g?: string; id: number }
  | { k: 'unsub'; f: string; g?: string }
  /** Local publishes, once each: `topics[i]` is the topic of the i-th frame of `data`. */
  | { k: 'fwd'; topics: string[]; data: Uint8Array }
  /** A retained message stored (a frame) or removed (a topic). */
  | { k: 'ret'; data: Uint8Array }
  | { k: 'retDel'; topic: string }
  /** Make this worker the owner of `cid`; answered by `claimed` with the same `id`. */
  | { k: 'claim'; id: number; cid: string; clean: boolean }
  /** A session ended on this worker (not moved). */
  | { k: 'release'; cid: string }
  /** A connected client's will (a frame and its delay in seconds), kept for a worker crash. */
  | { k: 'will'; cid: string; data: Uint8Array; delay: number }
  | { k: 'willDel'; cid: string }
  /** The answer to `handover`. */
  | { k: 'handedOver'; id: number; snap?: WireSnapshot };

/** Hub to worker. */
export type ToWorker =
  | { k: 'welcome'; data: Uint8Array }
  /** Messages of other workers for this worker's non-shared subscribers. */
  | { k: 'dlv'; data: Uint8Array }
  /** Messages for shared groups: the i-th frame goes to group `groups[i]` on `filters[i]`. */
  | { k: 'shr'; data: Uint8Array; filters: string[]; groups: string[] }
  | { k: 'ret'; data: Uint8Array }
  | { k: 'retDel'; topic: string }
  /** Another worker claimed `cid`: disconnect it here (0x8E) and answer `handedOver`. */
  | { k: 'handover'; id: number; cid: string; resume: boolean }
  | { k: 'claimed'; id: number; snap?: WireSnapshot; error?: string }
  /** The hub routes by the `sub` with this `id` (and every earlier one). */
  | { k: 'subbed'; id: number }
  /** Wills of the clients of a worker that died: publish them here (frames). */
  | { k: 'wills'; data: Uint8Array };

const TO_HUB = new Set(['hello', 'sub', 'unsub', 'fwd', 'ret', 'retDel', 'claim', 'release', 'will', 'willDel', 'handedOver']);
const TO_WORKER = new Set(['welcome', 'dlv', 'shr', 'ret', 'retDel', 'handover', 'claimed', 'subbed', 'wills']);

function kindOf(m: unknown): string | undefined {
  if (typeof m !== 'object' || m === null) return undefined;
  const k = (m as { k?: unknown }).k;
  return typeof k === 'string' ? k : undefined;
}

/** Is `m` one of the link's messages to the hub (not an application message on the same channel)? */
export function isToHub(m: unknown): m is ToHub {
  const k = kindOf(m);
  return k !== undefined && TO_HUB.has(k);
}

export function isToWorker(m: unknown): m is ToWorker {
  const k = kindOf(m);
  return k !== undefined && TO_WORKER.has(k);
}

/** One end of a worker <-> hub channel. Messages arrive in the order they were sent. */
export interface Port<Out, In> {
  send(msg: Out): void;
  /** Listen; returns a function that stops listening. */
  onMessage(fn: (msg: In) => void): () => void;
}

/** The worker's end. */
export type WorkerPort = Port<ToHub, ToWorker>;
/** The hub's end of one worker's channel. */
export type HubPort = Port<ToWorker, ToHub>;
