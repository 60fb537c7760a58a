import { mqttBehaviourSuite } from '@junction/mqtt/testing';
import { quicMultiFixture } from './quic-fixture.js';

mqttBehaviourSuite(quicMultiFixture);
