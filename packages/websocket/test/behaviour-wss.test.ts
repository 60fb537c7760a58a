import { mqttBehaviourSuite } from '@junction/mqtt/testing';
import { wssFixture } from '../src/testing/index.js';

mqttBehaviourSuite(wssFixture);
