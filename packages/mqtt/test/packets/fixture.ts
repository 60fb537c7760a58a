/** Shared set-up and expectations for the packet-level tests. */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import type { BrokerCore } from '@junction/broker-core';
import { tcpFixture, type BrokerHarness, type HarnessOptions } from '../../src/testing/harness.js';
import { describe as show, RawClient, type Received } from './raw-client.js';

export interface Fixture {
  readonly port: number;
  readonly broker: BrokerCore;
}

/**
 * One TCP broker (127.0.0.1, port 0) for the whole file (or, with `perTest`, a fresh one for each
 * test), always stopped; every raw client is destroyed after each test.
 */
export function useFixture(opts: HarnessOptions = {}, { perTest = false } = {}): Fixture {
  let h: BrokerHarness | undefined;
  const start = async () => {
    h = await tcpFixture.start(opts);
  };
  const stop = async () => {
    RawClient.destroyAll();
    await h?.stop();
    h = undefined;
  };
  if (perTest) {
    beforeEach(start);
    afterEach(stop);
  } else {
    beforeAll(start);
    afterEach(() => RawClient.destroyAll());
    afterAll(stop);
  }
  return {
    get port() {
      return h!.port;
    },
    get broker() {
      return h!.broker;
    },
  };
}

/** The next packet is a server DISCONNECT (fixed header 0xE0) with one of `codes`, then the server closes. */
export async function expectDisconnect(c: RawClient, codes: number | readonly number[], timeoutMs = 1000): Promise<Received<'disconnect'>> {
  const allowed = typeof codes === 'number' ? [codes] : codes;
  // Lenient: the reason code is checked here even if mqtt-packet would refuse it (reported apart).
  const p = await c.next('disconnect', timeoutMs, { lenient: true });
  expect(p.raw[0], 'DISCONNECT fixed header').toBe(0xe0);
  expect(allowed.map(hex), `DISCONNECT reason code, got ${show(p)}`).toContain(hex(p.reasonCode ?? 0));
  await c.closed(timeoutMs);
  return p;
}

/** The server closes the connection without sending anything more (nothing not yet consumed by `next()`). */
export async function expectClosedWithoutReply(c: RawClient, timeoutMs = 1000): Promise<void> {
  await c.closed(timeoutMs);
  expect(c.pending.map(show), 'packets received before the close').toEqual([]);
}

/**
 * The server closes the connection; it may first send one DISCONNECT with one of `codes` (MQTT 5
 * allows a DISCONNECT before closing on a malformed packet [MQTT-4.13.1-1]), nothing else.
 */
export async function expectClosedMaybeDisconnect(c: RawClient, codes: readonly number[], timeoutMs = 1000): Promise<void> {
  await c.closed(timeoutMs);
  const after = c.pending.map(show);
  if (after.length === 0) return;
  expect(after, 'at most one DISCONNECT before the close').toHaveLength(1);
  const d = c.pending[0]!;
  expect(d.cmd, `expected nothing or DISCONNECT, got ${show(d)}`).toBe('disconnect');
  expect(d.raw[0]).toBe(0xe0);
  expect(codes.map(hex)).toContain(hex((d as Received<'disconnect'>).reasonCode ?? 0));
}

export const hex = (n: number | undefined) => (n === undefined ? 'undefined' : `0x${n.toString(16).padStart(2, '0')}`);
