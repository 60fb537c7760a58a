/**
 * The dashboard in headless Chromium (Debian's, through playwright-core) against a real broker
 * and admin server in this process: log in, watch the overview, see an MQTT.js client appear in
 * the clients table and kick it (the client really is disconnected), create a rule with a
 * republish action in the editor, try its SQL, and see it fire (an MQTT client receives the
 * republished message), ban a client id (its next connect is refused), add a built-in user, and
 * see the OCPP charger's reported state on the gateways page; stop and start a listener and
 * disable and enable the OCPP gateway there; trace a client and change the log level on the
 * diagnose page.
 *
 * Set JUNCTION_DASHBOARD_SHOTS to a directory to keep a screenshot of every page there.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import ocppRpc from 'ocpp-rpc';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDashboard, PASSWORD, startStack, type Stack } from './stack.js';

/** Debian's Chromium (never a downloaded browser). */
const CHROMIUM = process.env.JUNCTION_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const SHOTS = process.env.JUNCTION_DASHBOARD_SHOTS;

describe.skipIf(!existsSync(CHROMIUM))('dashboard in headless Chromium', () => {
  let stack: Stack;
  let profile: string;
  let browser: BrowserContext;
  let page: Page;
  const clients: MqttClient[] = [];
  const closers: (() => Promise<unknown>)[] = [];
  let traffic: ReturnType<typeof setInterval> | undefined;

  const connect = async (opts: IClientOptions): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(stack.mqttUrl, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    clients.push(c);
    return c;
  };
  const shot = async (name: string) => {
    if (SHOTS) await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  const open = async (hash: string) => {
    await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
  };

  beforeAll(async () => {
    if (SHOTS) mkdirSync(SHOTS, { recursive: true });
    await buildDashboard();
    stack = await startStack();
    profile = mkdtempSync(join(tmpdir(), 'junction-dashboard-chromium-'));
    browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1360, height: 860 }, timeout: 30_000 });
    page = browser.pages()[0] ?? (await browser.newPage());
    page.setDefaultTimeout(10_000);
  }, 90_000);

  afterAll(async () => {
    if (traffic) clearInterval(traffic);
    await Promise.allSettled(clients.map((c) => c.endAsync(true)));
    await Promise.allSettled(closers.map((c) => c()));
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await stack?.stop();
  });

  it('logs in and shows the overview with live charts and node info', async () => {
    // Some steady traffic, so that the message charts move.
    const pub = await connect({ clientId: 'traffic-pub' });
    const sub = await connect({ clientId: 'traffic-sub' });
    await sub.subscribeAsync('metrics/#', { qos: 0 });
    // Bursty: 0 to 3 messages every 50 ms, so the chart has a shape.
    traffic = setInterval(() => {
      for (let i = Math.floor(Math.random() * 4); i > 0; i--) pub.publish('metrics/load', String(Math.random()), { qos: 0 });
    }, 50);

    await page.goto(stack.base);
    await page.locator('jn-login-page input[name=password]').waitFor();
    await shot('01-login');
    await page.locator('input[name=password]').fill('wrong-password-1');
    await page.locator('button[type=submit]').click();
    await page.locator('jn-login-page [role=alert]').waitFor();
    expect(await page.locator('jn-login-page [role=alert]').textContent()).toMatch(/\w/);
    await page.locator('input[name=password]').fill(PASSWORD);
    await page.locator('button[type=submit]').click();
    await page.locator('jn-overview-page h1').waitFor();
    await page.locator('#node-info').waitFor();
    expect(await page.locator('#node-info').textContent()).toContain('junction@127.0.0.1');
    // A few live samples: the "in" rate becomes positive.
    await expect.poll(async () => Number(await page.locator('[data-stat=in] .v').textContent()), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(Number(await page.locator('[data-stat=connections] .v').textContent())).toBeGreaterThanOrEqual(2);
    expect(await page.locator('#chart-messages polyline').count()).toBeGreaterThan(0);
  });

  it('shows an MQTT.js client in the clients table, finds it by search, and kicks it', async () => {
    const victim = await connect({ clientId: 'dash-kick-1', username: 'alice' });
    await victim.subscribeAsync('alerts/#', { qos: 1 });
    const disconnected = new Promise<number | undefined>((resolve) => victim.once('disconnect', (p) => resolve(p.reasonCode)));
    const closed = new Promise<void>((resolve) => victim.once('close', () => resolve()));

    await open('#/clients');
    const row = page.locator('tr[data-client="dash-kick-1"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('alice');
    await shot('03-clients');
    await page.locator('#search').fill('kick');
    await expect.poll(() => page.locator('#clients tbody tr').count()).toBe(1);
    await page.locator('#search-field').selectOption('username');
    await page.locator('#search').fill('ali');
    await expect.poll(() => page.locator('#clients tbody tr').count()).toBe(1);

    await row.locator('a').click();
    await page.locator('#client-facts').waitFor();
    await page.locator('jn-clients-page table').getByText('alerts/#').waitFor();
    await shot('04-client-detail');
    await page.locator('jn-clients-page jn-confirm button').click();
    await page.locator('jn-clients-page jn-confirm [data-yes]').click();
    // MQTT 5: DISCONNECT 0x98 (administrative action), then the connection closes.
    expect(await disconnected).toBe(0x98);
    await closed;
    await page.getByText('This client is not known').waitFor();
    expect(stack.broker.session('dash-kick-1')).toBeUndefined();
  });

  it('lists topics, subscriptions and retained messages', async () => {
    const sub = await connect({ clientId: 'dash-sub-1' });
    await sub.subscribeAsync(['room/+/temp', '$share/g1/jobs/#'], { qos: 1 });
    const pub = await connect({ clientId: 'dash-pub-1' });
    await pub.publishAsync('status/dev-1', JSON.stringify({ online: true, fw: '1.4.2' }), { qos: 1, retain: true });
    await pub.publishAsync('status/dev-2', 'offline', { qos: 0, retain: true });

    await open('#/topics');
    await page.locator('#topics').getByText('room/+/temp').waitFor();
    await shot('05-topics');
    await open('#/topics/subscriptions');
    await page.locator('#subscriptions').getByText('$share/g1/jobs/#').waitFor();
    await page.locator('jn-topics-page #filter').fill('room/kitchen/temp');
    await expect.poll(() => page.locator('#subscriptions tbody tr').count()).toBe(1);
    await page.locator('jn-topics-page #filter').fill('');
    await shot('06-subscriptions');

    await open('#/retained');
    const r = page.locator('tr[data-topic="status/dev-1"]');
    await r.waitFor();
    await r.getByText('Payload').click();
    await page.locator('#payload').getByText('"fw":"1.4.2"').waitFor();
    await shot('07-retained');
  });

  it('creates a rule with a republish action, tests its SQL, and sees it fire', async () => {
    const watcher = await connect({ clientId: 'dash-watcher' });
    await watcher.subscribeAsync('alerts/#', { qos: 1 });
    const sensor = await connect({ clientId: 'sensor-1' });

    await open('#/rules');
    await page.locator('#new-rule').click();
    await page.locator('#sql').waitFor();
    await page.locator('#rule-id').fill('hot_sensors');
    await page.locator('#description').fill('Temperature alerts');
    await page.locator('#sql').fill('SELECT payload.temp AS temp, clientid FROM "sensors/#" WHERE payload.temp > 30');
    await page.locator('.republish-topic').fill('alerts/${clientid}');
    // The test box: a sample that passes, then one that does not.
    await page.locator('#run-test').click();
    await page.locator('#test-result.ok').getByText('"temp": 35').waitFor();
    await shot('08-rule-editor');
    await page.locator('#ctx-payload').fill('{"temp": 12}');
    await page.locator('#run-test').click();
    await page.locator('#test-result.nomatch').waitFor();
    await page.locator('#ctx-payload').fill('{"temp": 35}');
    await page.locator('#run-test').click();
    await page.locator('#test-result.ok').waitFor();
    await page.locator('#save').click();
    await page.locator('tr[data-rule="hot_sensors"]').waitFor();
    expect(stack.rules.get('hot_sensors')).toMatchObject({ enable: true, from: ['sensors/#'] });

    const got = new Promise<{ topic: string; payload: string }>((resolve) => watcher.once('message', (topic, payload) => resolve({ topic, payload: payload.toString() })));
    await sensor.publishAsync('sensors/room1', JSON.stringify({ temp: 35 }), { qos: 1 });
    const m = await got;
    expect(m.topic).toBe('alerts/sensor-1');
    expect(JSON.parse(m.payload)).toEqual({ temp: 35, clientid: 'sensor-1' });
    await expect.poll(() => page.locator('tr[data-rule="hot_sensors"] [data-metric=matched]').textContent(), { timeout: 8000 }).toBe('1');
    await shot('09-rules');

    // Disable it from the list: it stops firing.
    await page.locator('tr[data-rule="hot_sensors"] [data-toggle]').click();
    await page.locator('tr[data-rule="hot_sensors"]').getByText('disabled').waitFor();
    expect(stack.rules.get('hot_sensors')?.enable).toBe(false);

    // Edit it: the editor loads the rule; the saved SQL is the engine's.
    await page.locator('tr[data-rule="hot_sensors"] a').click();
    await expect.poll(() => page.locator('#sql').inputValue()).toContain('payload.temp > 30');
    await page.locator('#sql').fill('SELECT payload.temp AS temp, clientid FROM "sensors/#" WHERE payload.temp > 40');
    await page.locator('#save').click();
    await page.locator('#new-rule').waitFor();
    expect(stack.rules.get('hot_sensors')).toMatchObject({ sql: expect.stringContaining('> 40'), enable: false, description: 'Temperature alerts' });
  });

  it('bans a client id: the ban is listed and the client can no longer connect', async () => {
    await open('#/banned');
    await page.locator('#ban-form select[name=as]').selectOption('clientid');
    await page.locator('#ban-form input[name=who]').fill('evil-1');
    await page.locator('#ban-form input[name=reason]').fill('flooding');
    await page.locator('#ban-form button[type=submit]').click();
    await page.locator('tr[data-ban="evil-1"]').getByText('flooding').waitFor();
    expect(stack.auth.banned.list().map((b) => b.who)).toContain('evil-1');
    await expect(mqtt.connectAsync(stack.mqttUrl, { clientId: 'evil-1', protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow(/[Bb]anned/);
    await shot('10-banned');
  });

  it('adds a built-in user', async () => {
    await open('#/users');
    await page.locator('#user-form input[name=user_id]').fill('meter-1');
    await page.locator('#user-form input[name=password]').fill('s3cret-pass');
    await page.locator('#user-form button[type=submit]').click();
    await page.locator('tr[data-user="meter-1"]').waitFor();
    expect(stack.auth.users.lookup('meter-1')).toMatchObject({ user_id: 'meter-1', is_superuser: false });
    await shot('11-users');
  });

  it('shows the MQTT listener, the OCPP gateway and each charger with the state it reported', async () => {
    // An MQTT back end that accepts every charger call, and two OCPP 1.6 chargers.
    const backend = await connect({ clientId: 'csms' });
    await backend.subscribeAsync('ocpp/cp/#', { qos: 1 });
    backend.on('message', (topic, payload) => {
      const call = JSON.parse(payload.toString()) as { MessageTypeId: number; UniqueId: string; Action: string };
      if (call.MessageTypeId !== 2) return;
      const reply = call.Action === 'BootNotification' ? { status: 'Accepted', currentTime: new Date().toISOString(), interval: 300 } : {};
      backend.publish(`ocpp/cs/${topic.split('/')[2]}`, JSON.stringify({ MessageTypeId: 3, UniqueId: call.UniqueId, Payload: reply }), { qos: 1 });
    });
    const charger = async (id: string, statuses: [number, string, string][]) => {
      const cli = new ocppRpc.RPCClient({ endpoint: stack.ocppEndpoint, identity: id, protocols: ['ocpp1.6'], reconnect: false, pingIntervalMs: 0, callTimeoutMs: 5000 } as never);
      closers.push(() => cli.close({ force: true }));
      await cli.connect();
      await cli.call('BootNotification', { chargePointVendor: 'Acme', chargePointModel: 'FastCharge 50', firmwareVersion: '2.1.0' });
      for (const [connectorId, status, errorCode] of statuses) await cli.call('StatusNotification', { connectorId, status, errorCode });
    };
    await charger('CP-001', [
      [1, 'Charging', 'NoError'],
      [2, 'Available', 'NoError'],
    ]);
    await charger('CP-002', [[1, 'Faulted', 'GroundFailure']]);

    await open('#/gateways');
    await page.locator('tr[data-listener="tcp:default"]').waitFor();
    const cp1 = page.locator('tr[data-charger="CP-001"]');
    await cp1.getByText('Charging').first().waitFor();
    expect(await cp1.textContent()).toContain('FastCharge 50');
    await page.locator('tr[data-charger="CP-002"]').getByText('GroundFailure').waitFor();
    await shot('12-gateways');

    // Back to the overview, with the history of the whole run in its charts.
    await open('#/overview');
    await page.locator('#node-info').waitFor();
    await expect.poll(() => page.locator('#chart-connections polyline').count()).toBeGreaterThan(0);
    if (SHOTS) await page.waitForTimeout(2500); // a few more samples for the picture
    await shot('02-overview');
  });

  it('stops and starts an MQTT listener, and disables and enables the OCPP gateway', async () => {
    const accepts = (port: number) =>
      new Promise<boolean>((resolve) => {
        const sock = netConnect({ host: '127.0.0.1', port });
        sock.once('connect', () => resolve(!!sock.destroy()));
        sock.once('error', () => resolve(false));
      });
    const portOf = async (row: string) => Number(((await page.locator(`${row} td.mono`).nth(1).textContent()) ?? '').split(':').pop());
    await open('#/gateways');
    const spare = 'tr[data-listener="tcp:spare"]';
    await page.locator(spare).getByText('running').waitFor();
    const before = await portOf(spare);
    expect(await accepts(before)).toBe(true);
    await page.locator(`${spare} jn-confirm button`).click();
    await page.locator(`${spare} jn-confirm [data-yes]`).click();
    await page.locator(spare).getByText('stopped').waitFor();
    expect(await accepts(before)).toBe(false);
    await page.locator(`${spare} [data-start]`).click();
    await page.locator(spare).getByText('running').waitFor();
    expect(await accepts(await portOf(spare))).toBe(true);

    const ocpp = page.locator('[data-gateway="ocpp"]');
    await ocpp.locator('jn-confirm button').click();
    await ocpp.locator('jn-confirm [data-yes]').click();
    await ocpp.locator('.badge').getByText('stopped', { exact: true }).waitFor();
    await shot('13-gateway-disabled');
    await ocpp.locator('[data-enable]').click();
    await ocpp.locator('.badge').getByText('running', { exact: true }).waitFor();
  });

  it('traces a client, shows the trace file, changes the log level and shows the redacted config', async () => {
    await open('#/diagnose');
    await page.locator('#trace-form input[name=name]').fill('watch-traced-1');
    await page.locator('#trace-form select[name=type]').selectOption('clientid');
    await page.locator('#trace-form input[name=value]').fill('traced-1');
    await page.locator('#trace-form button[type=submit]').click();
    const row = page.locator('tr[data-trace="watch-traced-1"]');
    await row.getByText('running').waitFor();

    const traced = await connect({ clientId: 'traced-1' });
    await traced.publishAsync('diag/hello', 'hello from traced-1', { qos: 1 });
    await row.locator('[data-view]').click();
    await page.locator('#trace-log').getByText('[message.publish]', { exact: false }).waitFor();
    const text = (await page.locator('#trace-log').textContent()) ?? '';
    expect(text).toContain('[client.connected] traced-1@');
    expect(text).toContain('payload: hello from traced-1');

    await page.locator('#level-form select[name=level]').selectOption('debug');
    await page.locator('#level-form button[type=submit]').click();
    await page.locator('#current-level').getByText('debug').waitFor();
    expect(stack.logLevel.level).toBe('debug');

    await page.locator('details summary').click();
    await page.locator('#config').getByText('"dashboard"', { exact: false }).waitFor();
    const config = (await page.locator('#config').textContent()) ?? '';
    expect(config).toContain('"token_expired_time": 3600000');
    expect(config).not.toContain(PASSWORD);
    await shot('14-diagnose');
  });
});
