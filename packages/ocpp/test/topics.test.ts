import { ConfigError, createTopicMapper } from '@junction/broker-core';
import { describe, expect, it } from 'vitest';
import { defaultOcppConfig, expandTemplate, OcppTopics, type UpstreamConfig } from '../src/index.js';

const client = { clientId: 'CP-1', username: 'CP-1' };
const topics = (upstream: Partial<UpstreamConfig> = {}, dnstream = {}, mountpoint = 'ocpp/') =>
  new OcppTopics({ ...defaultOcppConfig.upstream, ...upstream }, { ...defaultOcppConfig.dnstream, ...dnstream }, createTopicMapper(mountpoint));

describe('topics', () => {
  it('maps EMQX defaults under the mountpoint', () => {
    const t = topics();
    expect(t.call(client, 'BootNotification', 'u1')).toBe('ocpp/cp/CP-1');
    expect(t.reply(client, 'Reset', 'u2')).toBe('ocpp/cp/CP-1/Reply');
    expect(t.error(client, undefined, 'u3')).toBe('ocpp/cp/CP-1/Reply');
    expect(t.dnstream(client)).toBe('ocpp/cs/CP-1');
    expect(t.event(client)).toBe('ocpp/cp/CP-1/Connection');
  });

  it('per-action overrides and all placeholders', () => {
    const t = topics({ topic: 'up/${clientid}/${action}/${id}', topic_override_mapping: { MeterValues: 'meter/${cid}' }, event_topic: '' });
    expect(t.call(client, 'Heartbeat', 'x9')).toBe('ocpp/up/CP-1/Heartbeat/x9');
    expect(t.call(client, 'MeterValues', 'x9')).toBe('ocpp/meter/CP-1');
    expect(t.event(client)).toBeUndefined();
  });

  it('mountpoints may use ${clientid} and ${username}; an empty one is none', () => {
    expect(topics({}, {}, 'site/${username}/').call(client, 'Heartbeat', 'u')).toBe('site/CP-1/cp/CP-1');
    expect(topics({}, {}, '').dnstream(client)).toBe('cs/CP-1');
  });

  it('expandTemplate leaves unset variables empty', () => {
    expect(expandTemplate('a/${cid}/${action}', { cid: 'c' })).toBe('a/c/');
  });

  it.each([
    [{ topic: 'cp/${cp}' }, {}, 'gateway.ocpp.upstream.topic'],
    [{ reply_topic: 'cp/+/Reply' }, {}, 'gateway.ocpp.upstream.reply_topic'],
    [{ topic_override_mapping: { Heartbeat: 'hb/#' } }, {}, 'gateway.ocpp.upstream.topic_override_mapping.Heartbeat'],
    [{ event_topic: 'ev/${action}' }, {}, 'gateway.ocpp.upstream.event_topic'],
    [{}, { topic: 'cs/${cid}/${action}' }, 'gateway.ocpp.dnstream.topic'],
    [{ error_topic: '' }, {}, 'gateway.ocpp.upstream.error_topic'],
  ])('refuses %j %j naming %s', (up, dn, path) => {
    let err: unknown;
    try {
      topics(up, dn);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe(path);
  });
});
