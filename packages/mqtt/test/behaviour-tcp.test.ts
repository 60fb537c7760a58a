import { mqttBehaviourSuite, tcpFixture } from '../src/testing/index.js';

mqttBehaviourSuite(tcpFixture);
