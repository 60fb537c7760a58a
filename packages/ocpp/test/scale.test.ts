/**
 * 1,000 chargers connected at once, and what they cost the gateway. The chargers run in a child
 * process; the heap and RSS measured here are the broker's, the gateway's and the back end's.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, expect, it } from 'vitest';
import { eventually, startRig, stopRigs } from './helpers.js';

const CHARGERS = 1000;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

afterEach(stopRigs);

/** A settled heap: full collections until it stops shrinking. */
async function memory(): Promise<{ heap: number; rss: number; external: number }> {
  let last = Infinity;
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 20));
    gc();
    const h = process.memoryUsage().heapUsed;
    if (Math.abs(last - h) < 64 * 1024) break;
    last = h;
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, rss: m.rss, external: m.external };
}

class Fleet {
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      const w = m.id === undefined ? undefined : this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id!);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(m.error));
    });
  }

  static start(endpoint: string, prefix: string, protocol: string): Promise<Fleet> {
    const child = fork(fileURLToPath(new URL('./fixtures/chargers.mjs', import.meta.url)), [endpoint, prefix, protocol], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('message', () => resolve(new Fleet(child)));
    });
  }

  run<T>(cmd: string, args?: object): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, args });
    });
  }

  stop(): void {
    this.child.kill();
  }
}

const kb = (bytes: number) => (bytes / 1024).toFixed(2);

it(`${CHARGERS} chargers connected at once: boot through the back end, memory per charger`, async () => {
  const rig = await startRig();
  const backend = await rig.backend('ocpp/cp/+');
  backend.answer('BootNotification', () => ({ status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 }));
  const fleet = await Fleet.start(rig.endpoint, 'FLEET-', 'ocpp1.6');
  try {
    // Warm up: first connections compile schemas and fill caches that are not per charger.
    await fleet.run('connect', { from: 0, to: 20 });
    await fleet.run('boot');
    await fleet.run('close');
    await eventually(() => rig.gateway.stats().connections === 0, 'the warm-up chargers to leave');

    const before = await memory();
    const t0 = Date.now();
    await fleet.run('connect', { from: 0, to: CHARGERS });
    const connectMs = Date.now() - t0;
    await eventually(() => rig.gateway.stats().connections === CHARGERS, `${CHARGERS} connections`, 10_000);
    expect(rig.broker.stats().subscriptions).toBe(CHARGERS + 1);
    const connected = await memory();

    const t1 = Date.now();
    expect(await fleet.run('boot')).toEqual({ accepted: CHARGERS });
    const bootMs = Date.now() - t1;
    expect(backend.seen).toHaveLength(CHARGERS + 20);
    backend.seen.length = 0; // the test's own record of what the back end saw is not the gateway's
    const booted = await memory();

    await fleet.run('close');
    await eventually(() => rig.gateway.stats().connections === 0, 'every charger to leave', 10_000);
    expect(rig.broker.stats().sessions).toBe(1); // the back end's
    const after = await memory();

    const per = (a: { heap: number; rss: number }, b: { heap: number; rss: number }) => ({ heap: (a.heap - b.heap) / CHARGERS, rss: (a.rss - b.rss) / CHARGERS });
    const c = per(connected, before);
    const b = per(booted, before);
    const left = per(after, before);
    console.log(
      [
        `OCPP gateway, ${CHARGERS} chargers (ocpp1.6, ws, loopback), gateway process only:`,
        `  connect all: ${connectMs} ms; BootNotification round trip for all via MQTT back end: ${bootMs} ms`,
        `  connected:        heap +${kb(c.heap)} KB/charger, RSS +${kb(c.rss)} KB/charger`,
        `  after boot:       heap +${kb(b.heap)} KB/charger, RSS +${kb(b.rss)} KB/charger`,
        `  all disconnected: heap +${kb(left.heap)} KB/charger (the retained connection events, ~1 KB each, and JIT code remain)`,
      ].join('\n'),
    );
    // Generous bounds: a regression (a leak, a per-charger cache) shows up as a multiple of these.
    expect(c.heap).toBeLessThan(64 * 1024);
    expect(left.heap).toBeLessThan(4 * 1024);
  } finally {
    fleet.stop();
  }
}, 30_000);
