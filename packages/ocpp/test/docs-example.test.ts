/**
 * The worked back end of docs/ocpp.md, run as written against a gateway, with an ocpp-rpc charger.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { bootPayload16, eventually, rpcErrorOf, startRig, stopRigs } from './helpers.js';

afterEach(stopRigs);

function exampleFromDocs(): string {
  const doc = readFileSync(fileURLToPath(new URL('../../../docs/ocpp.md', import.meta.url)), 'utf8');
  const m = /```js\n(\/\/ central-system\.mjs[\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/ocpp.md has no central-system.mjs example');
  return m[1]!;
}

it('the central system of docs/ocpp.md answers BootNotification and sends a RemoteStartTransaction', async () => {
  const rig = await startRig();
  const child = spawn(process.execPath, ['--input-type=module', '-e', exampleFromDocs()], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, MQTT_URL: rig.mqttUrl, NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  try {
    await eventually(() => rig.broker.session('csms-1')?.subscriptions.length === 3, `the example to subscribe; output: ${out}`, 10_000);
    const cp = await rig.charger('CP-DOC');
    const remote: unknown[] = [];
    cp.handle('RemoteStartTransaction', ({ params }: { params: unknown }) => {
      remote.push(params);
      return { status: 'Accepted' };
    });
    expect(await cp.call('BootNotification', bootPayload16)).toMatchObject({ status: 'Accepted', interval: 300 });
    await eventually(() => out.includes('CP-DOC answered RemoteStartTransaction: Accepted'), `the remote start; output: ${out}`);
    expect(remote).toEqual([{ connectorId: 1, idTag: 'DEMO-TAG' }]);
    expect(out).toMatch(/CP-DOC connected \(OCPP 1\.6, 127\.0\.0\.1:\d+\)/);
    expect(await cp.call('Authorize', { idTag: 'DEMO-1' })).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect(await cp.call('Authorize', { idTag: 'STOLEN' })).toEqual({ idTagInfo: { status: 'Invalid' } });
    expect((await rpcErrorOf(cp.call('DataTransfer', { vendorId: 'x' }))).code).toBe('NotImplemented');
  } finally {
    child.kill();
  }
});
