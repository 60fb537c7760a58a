/**
 * MQTT bridge ingress: a remote Junction broker → the source's subscription → the rule engine of the
 * local broker (`FROM "$bridges/mqtt:<name>"`) → republished locally, received by MQTT.js.
 */
import { tcpFixture, useScope } from '@junction/mqtt/testing';
import { installRules, type RulesHandle } from '@junction/rules';
import { ConfigError } from '@junction/broker-core';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSources, type Sources } from '../src/index.js';
import { startRemoteBroker, until, type RemoteBroker } from './helpers.js';

describe('MQTT bridge source (ingress) into the rule engine', () => {
  const scope = useScope(tcpFixture, 5);
  let rules: RulesHandle;
  let remote: RemoteBroker;
  let sources: Sources;

  beforeAll(async () => {
    remote = await startRemoteBroker();
    rules = installRules(scope.h.broker);
    rules.create('from_cloud', {
      sql: 'SELECT payload.v as v, topic as remote_topic, pub_props.\'User-Property\'.site as site FROM "$bridges/mqtt:cloud_in"',
      actions: [{ function: 'republish', args: { topic: 'local/${remote_topic}', qos: 1 } }],
    });
    sources = createSources(
      {
        connectors: { mqtt: { cloud: { server: `127.0.0.1:${remote.port}`, proto_ver: 'v5', reconnect_interval: 100 } } },
        sources: { mqtt: { cloud_in: { connector: 'cloud', parameters: { topic: 'remote/#', qos: 1 } } } },
      },
      rules.ingest,
    );
  });
  afterAll(async () => {
    await sources?.stop();
    rules?.stop();
    await remote?.stop();
  });

  async function publishRemote(topic: string, body: object): Promise<void> {
    const c = await mqtt.connectAsync(remote.url, { protocolVersion: 5, reconnectPeriod: 0 });
    await c.publishAsync(topic, JSON.stringify(body), { qos: 1, properties: { userProperties: { site: 'lyon' } } });
    await c.endAsync();
  }

  it('feeds remote messages to the rules FROM "$bridges/mqtt:<name>"', async () => {
    const sub = await scope.connect();
    await sub.client.subscribeAsync('local/#', { qos: 1 });
    await until(() => sources.stats()['mqtt:cloud_in']!.status === 'connected', 5000, 'source connected');
    await until(async () => {
      // The subscription may land just after CONNACK: publish until the first one comes through.
      await publishRemote('remote/a', { v: 1 });
      return sub.on('local/').length > 0;
    }, 5000, 'first bridged message');
    const [m] = sub.on('local/');
    expect(m!.topic).toBe('local/remote/a');
    expect(JSON.parse(m!.text)).toEqual({ v: 1, remote_topic: 'remote/a', site: 'lyon' });
    expect(sources.stats()['mqtt:cloud_in']!.metrics.failed).toBe(0);
  });

  it('subscribes again after the remote broker restarts', async () => {
    const sub = await scope.connect();
    await sub.client.subscribeAsync('local/#', { qos: 1 });
    const port = remote.port;
    await remote.stop();
    await until(() => sources.stats()['mqtt:cloud_in']!.status === 'connecting', 5000, 'disconnect seen');
    remote = await startRemoteBroker(port);
    await until(() => sources.stats()['mqtt:cloud_in']!.status === 'connected', 5000, 'reconnected');
    await until(async () => {
      await publishRemote('remote/b', { v: 2 });
      return sub.on('local/remote/b').length > 0;
    }, 5000, 'bridged message after restart');
    expect(JSON.parse(sub.on('local/remote/b')[0]!.text)).toMatchObject({ v: 2 });
  });

  it('refuses a source naming an unknown connector', () => {
    expect(() => createSources({ sources: { mqtt: { x: { connector: 'nope', parameters: { topic: 't' } } } } }, rules.ingest)).toThrow(ConfigError);
  });
});
