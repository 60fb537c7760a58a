import { describe } from 'vitest';
import type { TransportFixture } from './harness.js';
import { connectBehaviour } from './behaviours/connect.js';
import { versionName, type Behaviour, type ProtocolVersion } from './behaviours/helpers.js';
import { keepaliveBehaviour } from './behaviours/keepalive.js';
import { maximumPacketSizeBehaviour } from './behaviours/maximum-packet-size.js';
import { messageExpiryBehaviour } from './behaviours/message-expiry.js';
import { mqtt5PropertiesBehaviour } from './behaviours/mqtt5-properties.js';
import { qosBehaviour } from './behaviours/qos.js';
import { retainBehaviour } from './behaviours/retain.js';
import { sessionBehaviour } from './behaviours/session.js';
import { sharedSubscriptionsBehaviour } from './behaviours/shared-subscriptions.js';
import { shutdownBehaviour } from './behaviours/shutdown.js';
import { subscribeBehaviour } from './behaviours/subscribe.js';
import { sysTopicsBehaviour } from './behaviours/sys-topics.js';
import { takeoverBehaviour } from './behaviours/takeover.js';
import { topicAliasBehaviour } from './behaviours/topic-alias.js';
import { unsubscribeBehaviour } from './behaviours/unsubscribe.js';
import { willBehaviour } from './behaviours/will.js';

/**
 * Every behaviour, in report order. Each registers its own `describe` with its own broker; the
 * MQTT 5-only ones register nothing for other versions.
 */
export const behaviours: readonly Behaviour[] = [
  connectBehaviour,
  subscribeBehaviour,
  unsubscribeBehaviour,
  qosBehaviour,
  retainBehaviour,
  willBehaviour,
  sessionBehaviour,
  takeoverBehaviour,
  keepaliveBehaviour,
  sharedSubscriptionsBehaviour,
  mqtt5PropertiesBehaviour,
  topicAliasBehaviour,
  messageExpiryBehaviour,
  maximumPacketSizeBehaviour,
  sysTopicsBehaviour,
  shutdownBehaviour,
];

/** MQTT 3.1 gets the basics: connect, and publish/subscribe at every QoS. */
const mqtt31Behaviours: readonly Behaviour[] = [connectBehaviour, qosBehaviour];

/**
 * The MQTT behaviour suite, run once per transport (TCP, TLS, WebSocket, QUIC) and protocol
 * version against a real client (MQTT.js), plus a raw mqtt-packet client where MQTT.js cannot
 * misbehave on purpose. Each behaviour lives in ./behaviours/ and starts its broker through
 * `fixture`, which must provide `openStream()` for the raw client, and may provide
 * `connectClient()` where MQTT.js cannot connect by URL (QUIC, WebTransport).
 */
export function mqttBehaviourSuite(fixture: TransportFixture): void {
  describe(`MQTT behaviour over ${fixture.name}`, () => {
    const run = (version: ProtocolVersion, list: readonly Behaviour[]) =>
      describe(versionName(version), () => {
        for (const b of list) b(fixture, version);
      });
    run(3, mqtt31Behaviours);
    run(4, behaviours);
    run(5, behaviours);
  });
}
