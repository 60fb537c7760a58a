import type { StoredSession } from '@junction/broker-core';
import type { KV, KvEntry } from 'nats';

/** What the registry holds per client id: the owning node and, for a persistent session, its
 * record (subscriptions, expiry), so that the session survives the owner's death. */
export interface RegistryEntry {
  readonly node: string;
  readonly session?: StoredSession;
  /** The will of the client's live connection, for the survivors should its node die. */
  readonly will?: RegistryWill;
  /**
   * The nodes that held this session since it was created (a clean start begins a new list),
   * oldest first, at most {@link MAX_HELD}: a node restarted with its durable store hands the
   * messages it kept for the client id to the owner only when it is in this list.
   */
  readonly held?: readonly string[];
}

export const MAX_HELD = 16;

/** `held` of an entry with `node` added last (once), bounded to {@link MAX_HELD}. */
export function heldWith(held: readonly string[] | undefined, node: string): string[] {
  const next = (held ?? []).filter((n) => n !== node);
  next.push(node);
  return next.slice(-MAX_HELD);
}

/** A will as the registry keeps it: the message as a base64 frame, and its delay in seconds. */
export interface RegistryWill {
  readonly frame: string;
  readonly delay: number;
}

/** The registry lost a compare-and-set race: another node wrote the entry in between. */
export class RegistryConflictError extends Error {
  constructor(clientId: string, cause: unknown) {
    super(`client registry entry of ${JSON.stringify(clientId)} changed concurrently`, { cause });
    this.name = 'RegistryConflictError';
  }
}

/** KV keys allow `[-/_=.a-zA-Z0-9]`: the client id in base64url (`=` stands for the empty id).
 * Also a valid NATS subject token. */
export function keyOf(clientId: string): string {
  return clientId === '' ? '=' : Buffer.from(clientId, 'utf8').toString('base64url');
}

/** Inverse of {@link keyOf}. */
export function clientIdOfKey(key: string): string {
  return key === '=' ? '' : Buffer.from(key, 'base64url').toString('utf8');
}

/** A read entry: its value (undefined when deleted) and the revision to compare against. */
export interface Versioned {
  readonly entry: RegistryEntry | undefined;
  /** 0: the key never existed. */
  readonly revision: number;
}

/**
 * The cluster-wide client registry in JetStream KV. Every write is a compare-and-set against
 * the revision read before it, so two nodes claiming one client id cannot both win.
 * Control-plane data: JSON values are fine here (one write per connect or subscription change).
 */
export class ClientRegistry {
  constructor(private readonly kv: KV) {}

  /** Every client id with an entry (deleted ones may be listed too: `read` tells). */
  async *clientIds(): AsyncIterable<string> {
    // Read the whole listing first: nats.js ends its key iterator early when the consumer of it
    // awaits between keys (only the first key came out of a 5-key bucket).
    const keys: string[] = [];
    for await (const k of await this.kv.keys()) keys.push(k);
    for (const k of keys) yield clientIdOfKey(k);
  }

  /**
   * Every entry, then every change, as `fn(clientId, entry)` (`entry` undefined: deleted), for
   * as long as the watch runs. Resolves once the current entries were all passed; returns a stop
   * function.
   */
  async follow(fn: (clientId: string, entry: RegistryEntry | undefined) => void): Promise<() => void> {
    let caughtUp!: () => void;
    const ready = new Promise<void>((r) => (caughtUp = r));
    const iter = await this.kv.watch({ key: '>', initializedFn: () => caughtUp() });
    void (async () => {
      for await (const e of iter) fn(clientIdOfKey(e.key), e.operation === 'PUT' ? parse(e) : undefined);
    })().catch(() => {});
    await ready;
    return () => iter.stop();
  }

  async read(clientId: string): Promise<Versioned> {
    const e = await this.kv.get(keyOf(clientId));
    if (!e) return { entry: undefined, revision: 0 };
    return { entry: e.operation === 'PUT' ? parse(e) : undefined, revision: e.revision };
  }

  /** Write `entry` if the key is still at `revision` (0: never written); throws
   * {@link RegistryConflictError} otherwise. */
  async write(clientId: string, entry: RegistryEntry, revision: number): Promise<void> {
    const value = Buffer.from(JSON.stringify(entry));
    try {
      if (revision === 0) await this.kv.create(keyOf(clientId), value);
      else await this.kv.update(keyOf(clientId), value, revision);
    } catch (err) {
      if (isConflict(err)) throw new RegistryConflictError(clientId, err);
      throw err;
    }
  }

  /** Delete the entry if it is still at `revision`. */
  async remove(clientId: string, revision: number): Promise<void> {
    try {
      await this.kv.delete(keyOf(clientId), { previousSeq: revision });
    } catch (err) {
      if (isConflict(err)) throw new RegistryConflictError(clientId, err);
      throw err;
    }
  }
}

function parse(e: KvEntry): RegistryEntry | undefined {
  try {
    const v = JSON.parse(Buffer.from(e.value).toString('utf8')) as RegistryEntry;
    return typeof v?.node === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** JetStream answers a failed compare-and-set with API error 10071 (wrong last sequence). */
function isConflict(err: unknown): boolean {
  const e = err as { api_error?: { err_code?: number }; message?: string };
  return e?.api_error?.err_code === 10071 || /wrong last sequence|key exists/i.test(String(e?.message ?? ''));
}
