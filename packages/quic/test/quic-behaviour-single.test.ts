import { mqttBehaviourSuite } from '@junction/mqtt/testing';
import { quicFixture } from './quic-fixture.js';

mqttBehaviourSuite(quicFixture);
