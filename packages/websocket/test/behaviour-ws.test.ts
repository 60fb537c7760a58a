import { mqttBehaviourSuite } from '@junction/mqtt/testing';
import { wsFixture } from '../src/testing/index.js';

mqttBehaviourSuite(wsFixture);
