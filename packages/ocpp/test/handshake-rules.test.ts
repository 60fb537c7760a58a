/** The handshake rules as pure functions: charge point id, Basic credentials, subprotocol, origin. */
import { describe, expect, it } from 'vitest';
import { websocketSchema } from '../src/index.js';
import { basicCredentials, checkOrigin, identityFromUrl, parseSubprotocols, pickSubprotocol } from '../src/transport/handshake.js';
import { intervalFromBoot, intervalFromConfiguration } from '../src/charger/heartbeat.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

describe('charge point id from the path', () => {
  it.each([
    ['/ocpp/CP-1', 'CP-1'],
    ['/ocpp/CP%201', 'CP 1'],
    ['/ocpp/%C3%BC', 'ü'],
    ['/ocpp/a:b', 'a:b'],
    ['/ocpp/CP-1?x=1', 'CP-1'],
  ])('%s -> %s', (url, id) => {
    expect(identityFromUrl(url, '/ocpp')).toEqual({ ok: true, identity: id });
  });

  it.each([
    ['/ocpp/a%2Fb', 400],
    ['/ocpp/a%23b', 400],
    ['/ocpp/a+b', 400],
    ['/ocpp/%0A', 400],
    ['/ocpp/%E0%A4%A', 400],
    ['/ocpp/', 400],
    ['/ocpp/a/b', 400],
    ['/ocpp', 404],
    ['/ocppx/a', 404],
    ['/', 404],
  ])('%s is refused with %i', (url, status) => {
    expect(identityFromUrl(url, '/ocpp')).toMatchObject({ ok: false, status });
  });

  it('takes a configured path with or without a trailing slash', () => {
    expect(identityFromUrl('/v1/ocpp/X', '/v1/ocpp/')).toEqual({ ok: true, identity: 'X' });
    expect(identityFromUrl('/v1/ocpp/X', '/v1/ocpp')).toEqual({ ok: true, identity: 'X' });
  });
});

describe('Basic credentials', () => {
  it('reads id:password, with colons in the id and binary passwords', () => {
    expect(basicCredentials(undefined, 'CP')).toEqual({ ok: true });
    expect(basicCredentials(`Basic ${b64('CP:pw')}`, 'CP')).toEqual({ ok: true, username: 'CP', password: Buffer.from('pw') });
    expect(basicCredentials(`basic  ${b64('a:b:c:pass:word')}`, 'a:b:c')).toEqual({ ok: true, username: 'a:b:c', password: Buffer.from('pass:word') });
    const key = Buffer.concat([Buffer.from('CP:'), Buffer.from([0, 255, 58])]);
    expect(basicCredentials(`Basic ${b64(key)}`, 'CP')).toEqual({ ok: true, username: 'CP', password: Buffer.from([0, 255, 58]) });
  });

  it('refuses another user name and other schemes with 401', () => {
    expect(basicCredentials(`Basic ${b64('other:pw')}`, 'CP')).toMatchObject({ ok: false, status: 401 });
    expect(basicCredentials(`Basic ${b64('CP')}`, 'CP')).toMatchObject({ ok: false, status: 401 });
    expect(basicCredentials('Bearer abc', 'CP')).toMatchObject({ ok: false, status: 401 });
  });
});

describe('subprotocols', () => {
  it('parses the EMQX-style list and refuses unknown ones', () => {
    expect(parseSubprotocols(' ocpp1.6 ,ocpp2.0.1,ocpp1.6')).toEqual(['ocpp1.6', 'ocpp2.0.1']);
    expect(() => parseSubprotocols('ocpp1.6, ocpp2.0')).toThrow(/ocpp2\.0/);
    expect(() => parseSubprotocols(' , ')).toThrow(/no subprotocol/);
  });

  it("picks the charger's first supported one", () => {
    expect(pickSubprotocol(['ocpp2.0', 'ocpp2.0.1', 'ocpp1.6'], ['ocpp1.6', 'ocpp2.0.1'], true)).toEqual({ ok: true, chosen: 'ocpp2.0.1', version: 'ocpp2.0.1' });
    expect(pickSubprotocol(['ocpp1.5'], ['ocpp1.6'], true)).toMatchObject({ ok: false, status: 400 });
    expect(pickSubprotocol([], ['ocpp1.6'], true)).toMatchObject({ ok: false, status: 400 });
    expect(pickSubprotocol([], ['ocpp2.0.1', 'ocpp1.6'], false)).toEqual({ ok: true, chosen: false, version: 'ocpp2.0.1' });
  });
});

describe('origin', () => {
  const ws = { path: '/ocpp', supported_subprotocols: 'ocpp1.6', fail_if_no_subprotocol: true, max_frame_size: 0, check_origin_enable: true, allow_origin_absence: false, check_origins: 'https://a, https://b' };
  it('applies check_origins', () => {
    expect(checkOrigin({ origin: 'https://b' }, ws).ok).toBe(true);
    expect(checkOrigin({ origin: 'https://c' }, ws)).toMatchObject({ ok: false, status: 403 });
    expect(checkOrigin({}, ws)).toMatchObject({ ok: false, status: 403 });
    expect(checkOrigin({}, { ...ws, allow_origin_absence: true }).ok).toBe(true);
    expect(checkOrigin({ origin: 'https://c' }, { ...ws, check_origin_enable: false }).ok).toBe(true);
    expect(websocketSchema.properties.check_origin_enable.default).toBe(false);
  });
});

describe('heartbeat interval from answers', () => {
  it('BootNotification: only Accepted with a positive interval', () => {
    expect(intervalFromBoot({ status: 'Accepted', interval: 300, currentTime: '' })).toBe(300);
    expect(intervalFromBoot({ status: 'Pending', interval: 300 })).toBeUndefined();
    expect(intervalFromBoot({ status: 'Accepted', interval: 0 })).toBeUndefined();
    expect(intervalFromBoot(null)).toBeUndefined();
  });

  it('ChangeConfiguration (1.6) and SetVariables (2.0.1)', () => {
    expect(intervalFromConfiguration('1.6', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '120' }, { status: 'Accepted' })).toBe(120);
    expect(intervalFromConfiguration('1.6', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '120' }, { status: 'Rejected' })).toBeUndefined();
    expect(intervalFromConfiguration('1.6', 'ChangeConfiguration', { key: 'MeterValueSampleInterval', value: '120' }, { status: 'Accepted' })).toBeUndefined();
    const hb = { component: { name: 'HeartbeatCtrlr' }, variable: { name: 'Interval' } };
    const req = { setVariableData: [{ ...hb, attributeValue: '90' }] };
    expect(intervalFromConfiguration('2.0.1', 'SetVariables', req, { setVariableResult: [{ ...hb, attributeStatus: 'Accepted' }] })).toBe(90);
    expect(intervalFromConfiguration('2.0.1', 'SetVariables', req, { setVariableResult: [{ ...hb, attributeStatus: 'Rejected' }] })).toBeUndefined();
    expect(intervalFromConfiguration('2.0.1', 'SetVariables', { setVariableData: [{ ...hb, attributeType: 'Target', attributeValue: '90' }] }, { setVariableResult: [{ ...hb, attributeType: 'Target', attributeStatus: 'Accepted' }] })).toBeUndefined();
  });
});
