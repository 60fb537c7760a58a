import { PassThrough } from 'node:stream';
import { createAdminServer } from '@junction/admin';
import { BrokerCore, createAdapterContext } from '@junction/broker-core';
import { tcpListenersFactory } from '@junction/mqtt';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  return { stream, text: () => text };
}

describe('junction ctl', () => {
  it('lists and kicks clients of a running broker through its API', async () => {
    const broker = new BrokerCore();
    const tcp = tcpListenersFactory.create(createAdapterContext(broker), { default: { enable: true, bind: { host: '127.0.0.1', port: 0 }, max_connections: 100, mountpoint: '' } });
    const [info] = await tcp.start();
    const admin = createAdminServer({ broker, bind: '127.0.0.1:0', config: { dashboard: { default_password: 'Ctl-test-pw-1' } } });
    const { port } = await admin.start();
    stops.push(() => broker.close(), () => tcp.stop(), () => admin.stop());
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${info!.port}`, { protocolVersion: 5, clientId: 'dev-ctl', reconnectPeriod: 0 });
    stops.push(() => client.endAsync(true));
    const env = { JUNCTION_CTL_URL: `http://127.0.0.1:${port}`, JUNCTION_CTL_USERNAME: 'admin', JUNCTION_CTL_PASSWORD: 'Ctl-test-pw-1' };

    const out = capture();
    expect(await runCli(['ctl', 'clients', 'list'], { env, stdout: out.stream, stderr: capture().stream })).toBe(0);
    expect(out.text()).toContain('dev-ctl');

    const gone = new Promise<number | undefined>((r) => client.once('disconnect', (p) => r(p.reasonCode)));
    expect(await runCli(['ctl', 'clients', 'kick', 'dev-ctl'], { env, stdout: capture().stream, stderr: capture().stream })).toBe(0);
    expect(await gone).toBe(0x98);

    const err = capture();
    expect(await runCli(['ctl', 'clients', 'list'], { env: { ...env, JUNCTION_CTL_PASSWORD: 'wrong' }, stdout: capture().stream, stderr: err.stream })).toBe(1);
  });
});
