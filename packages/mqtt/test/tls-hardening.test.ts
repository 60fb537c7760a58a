/**
 * The ssl listener through @junction/tls: certificate identity as user name or client id
 * (`peer_cert_as_username` / `peer_cert_as_clientid`), a client certificate revoked in a CRL file,
 * TLS versions, and certificate reload, all with MQTT.js.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerCore, createAdapterContext, type Adapter, type ConnectInfo } from '@junction/broker-core';
import type { SslOptions } from '@junction/tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultMqttOptions, sslListenersFactory, type MqttOptions } from '../src/index.js';

/** CA, server certificate, and client certificates with SANs, one of them revoked in a CRL. */
let dir: string;
const f = (name: string) => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'junction-mqtt-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(f('index.txt'), '');
  writeFileSync(f('crlnumber'), '01\n');
  writeFileSync(
    f('ca.cnf'),
    '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\ncrlnumber=crlnumber\ncertificate=ca.crt\nprivate_key=ca.key\ndefault_md=sha256\ndefault_crl_days=2\n',
  );
  ssl('req', '-x509', ...ec, '-days', '2', '-subj', '/CN=MQTT TLS Test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  const issue = (name: string, subj: string, ext: string, serial: string) => {
    writeFileSync(f(`${name}.ext`), ext);
    ssl('req', ...ec, '-subj', subj, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', serial, '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  };
  issue('server', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n', '0x100');
  issue('server2', '/CN=localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n', '0x101');
  issue('dev7', '/O=Acme/CN=dev-7', 'subjectAltName=DNS:dev-7.devices.example,email:dev7@example.com\nextendedKeyUsage=clientAuth\n', '0x200');
  issue('stolen', '/CN=stolen', 'extendedKeyUsage=clientAuth\n', '0x201');
  ssl('ca', '-config', 'ca.cnf', '-revoke', 'stolen.crt');
  ssl('ca', '-config', 'ca.cnf', '-gencrl', '-out', 'ca.crl');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let broker: BrokerCore | undefined;
let adapter: Adapter | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.end(true);
  await adapter?.stop({ drainMs: 500 });
  await broker?.close();
  adapter = undefined;
  broker = undefined;
});

async function start(ssl: Partial<SslOptions>, mqttOptions: Partial<MqttOptions> = {}): Promise<number> {
  broker = new BrokerCore();
  const ctx = createAdapterContext(broker, { sections: { mqtt: { ...defaultMqttOptions, ...mqttOptions } } });
  adapter = sslListenersFactory.create(ctx, {
    default: {
      enable: true,
      bind: { host: '127.0.0.1', port: 0 },
      max_connections: 100,
      mountpoint: '',
      ssl_options: { certfile: f('server.crt'), keyfile: f('server.key'), cacertfile: f('ca.crt'), verify: 'verify_peer', fail_if_no_peer_cert: true, versions: ['tlsv1.3', 'tlsv1.2'], ...ssl },
    },
  });
  const [info] = await adapter.start();
  return info!.port;
}

const as = (name: string): IClientOptions => ({ cert: readFileSync(f(`${name}.crt`)), key: readFileSync(f(`${name}.key`)) });

/** Connects with MQTT.js; resolves with the CONNACK or the error that ended the attempt. */
function connect(port: number, opts: IClientOptions): Promise<{ ok: true; client: MqttClient } | { ok: false; error: Error }> {
  const client = mqtt.connect(`mqtts://127.0.0.1:${port}`, { ca: readFileSync(f('ca.crt')), servername: 'localhost', reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 5, ...opts });
  clients.push(client);
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ ok: true, client }));
    client.once('error', (error) => resolve({ ok: false, error }));
    client.once('close', () => resolve({ ok: false, error: new Error('closed') }));
  });
}

function connectedInfo(): Promise<ConnectInfo> {
  return new Promise((resolve) => {
    const off = broker!.hooks.on('client.connected', (_c: unknown, info: ConnectInfo) => {
      off();
      resolve(info);
    });
  });
}

describe('peer certificate identity', () => {
  it.each([
    ['cn', 'dev-7'],
    ['san', 'dev-7.devices.example'],
    ['dn', 'O=Acme,CN=dev-7'],
  ] as const)('peer_cert_as_username: %s makes the user name %s (whatever CONNECT says)', async (mode, want) => {
    const port = await start({}, { peer_cert_as_username: mode });
    const info = connectedInfo();
    const c = await connect(port, { ...as('dev7'), username: 'someone-else' });
    expect(c.ok).toBe(true);
    const got = await info;
    expect(got.username).toBe(want);
    expect(got.peerCert).toMatchObject({ commonName: 'dev-7', subjectAltName: 'DNS:dev-7.devices.example, email:dev7@example.com' });
  });

  it('peer_cert_as_clientid: cn makes the client id', async () => {
    const port = await start({}, { peer_cert_as_clientid: 'cn' });
    const info = connectedInfo();
    const c = await connect(port, { ...as('dev7'), clientId: 'chosen-by-client' });
    expect(c.ok).toBe(true);
    expect((await info).clientId).toBe('dev-7');
  });

  it('leaves the CONNECT user name alone by default', async () => {
    const port = await start({});
    const info = connectedInfo();
    expect((await connect(port, { ...as('dev7'), username: 'alice' })).ok).toBe(true);
    expect((await info).username).toBe('alice');
  });
});

describe('revocation and versions', () => {
  it('refuses a client certificate revoked in the CRL file, accepts the others', async () => {
    const port = await start({ enable_crl_check: true, crlfile: f('ca.crl') });
    let connects = 0;
    broker!.hooks.on('client.connected', () => connects++);
    expect((await connect(port, as('stolen'))).ok).toBe(false);
    expect(connects).toBe(0);
    expect((await connect(port, as('dev7'))).ok).toBe(true);
  });

  it('refuses a TLS 1.2 client when versions is [tlsv1.3]', async () => {
    const port = await start({ versions: ['tlsv1.3'] });
    expect((await connect(port, { ...as('dev7'), maxVersion: 'TLSv1.2' } as IClientOptions)).ok).toBe(false);
    expect((await connect(port, as('dev7'))).ok).toBe(true);
  });
});

describe('certificate reload', () => {
  it('serves a replaced certificate to new clients while connected clients keep going', async () => {
    copyFileSync(f('server.crt'), f('live.crt'));
    copyFileSync(f('server.key'), f('live.key'));
    const port = await start({ certfile: f('live.crt'), keyfile: f('live.key'), reload_interval: 200 });
    const first = await connect(port, as('dev7'));
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    const fingerprint = (c: MqttClient) => (c.stream as unknown as { getPeerCertificate(): { fingerprint256: string } }).getPeerCertificate().fingerprint256;
    const fp2 = new X509Certificate(readFileSync(f('server2.crt'))).fingerprint256;
    copyFileSync(f('server2.key'), f('live.key'));
    copyFileSync(f('server2.crt'), f('live.crt'));
    // Wait until the listener serves the new certificate (file watcher or the 200 ms poll).
    let fresh: MqttClient | undefined;
    for (let i = 0; i < 100 && !fresh; i++) {
      const c = await connect(port, as('dev7'));
      if (c.ok && fingerprint(c.client) === fp2) fresh = c.client;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(fresh).toBeDefined();
    // The first connection still works.
    await first.client.subscribeAsync('reload/t', { qos: 1 });
    const got = new Promise<string>((resolve) => first.client.once('message', (_t, payload) => resolve(payload.toString())));
    await fresh!.publishAsync('reload/t', 'after reload', { qos: 1 });
    expect(await got).toBe('after reload');
    expect(fingerprint(first.client)).not.toBe(fp2);
  });
});
