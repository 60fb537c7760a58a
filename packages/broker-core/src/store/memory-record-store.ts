import { checkRecordAddress, type RecordStore, type StoredRecord } from './record-store.js';

/** {@link RecordStore} in memory: what a broker without a durable store keeps. Values are copied. */
export class MemoryRecordStore implements RecordStore {
  private readonly spaces = new Map<string, Map<string, string>>();

  async list(namespace: string): Promise<StoredRecord[]> {
    checkRecordAddress(namespace);
    const space = this.spaces.get(namespace);
    if (!space) return [];
    return [...space].map(([key, text]) => ({ key, value: JSON.parse(text) as unknown }));
  }

  async get(namespace: string, key: string): Promise<unknown> {
    checkRecordAddress(namespace, key);
    const text = this.spaces.get(namespace)?.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as unknown);
  }

  async put(namespace: string, key: string, value: unknown): Promise<void> {
    checkRecordAddress(namespace, key);
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError('record value must be JSON');
    let space = this.spaces.get(namespace);
    if (!space) this.spaces.set(namespace, (space = new Map()));
    space.set(key, text);
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    checkRecordAddress(namespace, key);
    return this.spaces.get(namespace)?.delete(key) ?? false;
  }

  async clear(namespace: string): Promise<number> {
    checkRecordAddress(namespace);
    const n = this.spaces.get(namespace)?.size ?? 0;
    this.spaces.delete(namespace);
    return n;
  }

  async close(): Promise<void> {}
}
