import { mqttBehaviourSuite, tlsFixture } from '../src/testing/index.js';

mqttBehaviourSuite(tlsFixture);
