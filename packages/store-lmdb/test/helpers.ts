import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message, QoS, StoredDelivery } from '@junction/broker-core';

export const NOW = 1_700_000_000_000;

const dirs: string[] = [];

/** A fresh temporary directory, removed by {@link removeTempDirs}. */
export function tempDir(prefix = 'junction-lmdb-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function message(topic: string, over: Partial<Message> = {}): Message {
  return {
    topic,
    payload: Buffer.from(`payload of ${topic}`),
    qos: 1 as QoS,
    retain: false,
    from: { clientId: 'publisher', protocol: 'mqtt', node: 'junction@127.0.0.1' },
    timestamp: NOW,
    ...over,
  };
}

export function delivery(topic: string, over: Partial<Omit<StoredDelivery, 'seq'>> = {}): Omit<StoredDelivery, 'seq'> {
  return { message: message(topic), qos: 1, retain: false, ...over };
}
