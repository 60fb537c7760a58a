/**
 * libcoap's command-line client (`coap-client-notls`, Debian libcoap3-bin) against the gateway:
 * publish, observe (`-s`), block-wise both ways (`-b`) and connection mode, asserting on what it
 * prints, with MQTT.js on the other side.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, startGateway, type Running } from './harness.js';

const BIN = 'coap-client-notls';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function coapClient(args: string[], timeoutMs = 10_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(BIN, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error(`${BIN} is not installed (Debian package libcoap3-bin)`));
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

let gw: Running;
let base: string;
let dir: string;
beforeAll(async () => {
  gw = await startGateway({ coap: { blockwise: { max_block_size: 256 } } });
  base = `coap://127.0.0.1:${gw.port}`;
  dir = mkdtempSync(join(tmpdir(), 'junction-coap-'));
});
afterAll(async () => gw.stop());

describe('coap-client-notls', () => {
  it('publishes with -m post and -m put, with qos, retain and Content-Format (-t)', async () => {
    const sub = await gw.mqtt();
    const got = collect(sub);
    await sub.subscribeAsync('lc/pub/#', { qos: 2 });
    const post = await coapClient(['-m', 'post', '-e', 'Hi, this is libcoap', '-t', '50', `${base}/ps/lc/pub/a?qos=2&retain=true`]);
    expect(post.code).toBe(0);
    expect(post.stdout).toBe('');
    const m = await got.next();
    expect([m.topic, m.payload.toString(), m.packet.qos, m.packet.properties?.contentType]).toEqual(['lc/pub/a', 'Hi, this is libcoap', 2, 'application/json']);
    const put = await coapClient(['-m', 'put', '-N', '-e', 'non put', `${base}/ps/lc/pub/b`]);
    expect(put.code).toBe(0);
    const m2 = await got.next();
    expect([m2.topic, m2.payload.toString(), m2.packet.qos]).toEqual(['lc/pub/b', 'non put', 0]);
  });

  it('prints the error payload of a refused request', async () => {
    const r = await coapClient(['-m', 'post', '-e', 'x', `${base}/ps/lc/pub/x?qos=9`]);
    expect(r.stderr + r.stdout).toContain('4.00 invalid qos');
    const nf = await coapClient(['-m', 'get', `${base}/unknown`]);
    expect(nf.stderr + nf.stdout).toContain('4.04');
  });

  it('observes with -s and prints the retained message and the notifications, then deregisters', async () => {
    const mqtt = await gw.mqtt();
    await mqtt.publishAsync('lc/obs', 'retained first', { qos: 1, retain: true });
    const run = coapClient(['-m', 'get', '-s', '3', '-w', '-T', 'obstoken', `${base}/ps/lc/obs?c=libcoap-observer`]);
    await waitFor(() => gw.broker.session('libcoap-observer')?.subscriptions.includes('lc/obs'), 'the observation');
    await mqtt.publishAsync('lc/obs', 'live one', { qos: 0 });
    await mqtt.publishAsync('lc/obs', 'live two', { qos: 1 });
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['retained first', 'live one', 'live two']);
    // libcoap sends Observe 1 when -s ends: the subscription is gone.
    await waitFor(() => gw.broker.session('libcoap-observer')?.subscriptions.length === 0, 'the deregistration');
  });

  it('sends a large publish in Block1 blocks (-b) and receives a large notification in Block2 blocks', async () => {
    const sub = await gw.mqtt();
    const got = collect(sub);
    await sub.subscribeAsync('lc/big/#');
    const body = randomBytes(2000).toString('base64');
    const file = join(dir, 'body.txt');
    writeFileSync(file, body);
    const up = await coapClient(['-m', 'post', '-b', '64', '-f', file, `${base}/ps/lc/big/up`]);
    expect(up.code).toBe(0);
    expect((await got.next()).payload.toString()).toBe(body);

    const run = coapClient(['-m', 'get', '-s', '3', `${base}/ps/lc/big/down?c=libcoap-big`]);
    await waitFor(() => gw.broker.session('libcoap-big')?.subscriptions.length === 1, 'the observation');
    const mqtt = await gw.mqtt();
    await mqtt.publishAsync('lc/big/down', body, { qos: 1 });
    const r = await run;
    expect(r.stdout.replace(/\n$/, '')).toBe(body);
  });

  it('connects, publishes, heartbeats and disconnects in connection mode', async () => {
    const conn = await coapClient(['-m', 'post', `${base}/mqtt/connection?clientid=lc-dev&username=admin&password=public`]);
    const token = conn.stdout.trim();
    expect(token).toMatch(/^\d+$/);
    expect(gw.broker.session('lc-dev')?.connected).toBe(true);
    const sub = await gw.mqtt();
    const got = collect(sub);
    await sub.subscribeAsync('lc/conn');
    const pub = await coapClient(['-m', 'post', '-e', 'in connection mode', `${base}/ps/lc/conn?clientid=lc-dev&token=${token}`]);
    expect(pub.code).toBe(0);
    expect((await got.next()).payload.toString()).toBe('in connection mode');
    const hb = await coapClient(['-m', 'put', `${base}/mqtt/connection?c=lc-dev&t=${token}`]);
    expect(hb.stdout + hb.stderr).toBe('');
    const bad = await coapClient(['-m', 'put', `${base}/mqtt/connection?c=lc-dev&t=1`]);
    expect(bad.stdout + bad.stderr).toContain('4.01 Invalid token or clientid in connection mode');
    await coapClient(['-m', 'delete', `${base}/mqtt/connection?clientid=lc-dev&token=${token}`]);
    expect(gw.broker.session('lc-dev')).toBeUndefined();
  });
});

async function waitFor(check: () => boolean | undefined, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
