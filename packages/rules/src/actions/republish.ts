/**
 * The `republish` action: publish the rule's output as a new message. Topic, payload, QoS,
 * retain, MQTT 5 properties and user properties are `${var}` templates over the output.
 *
 * Loop guard. EMQX refuses to let a rule republish a message that its own republish produced
 * (`recursive_republish_detected`). Junction keeps, for each message a republish produces, the
 * chain of rules that led to it, and refuses when the rule is anywhere in that chain (so
 * A -> B -> A cycles stop too) or when the chain reaches `max_republish_depth`. A refused
 * republish counts `actions.discarded` and logs at a bounded rate. The chain travels with the
 * synchronous publish: the core runs `message.publish` interceptors, deliveries and their hooks
 * within `publish()`, so everything a republished message triggers sees the chain.
 */
import type { Logger, MessageProperties, PublishRequest, Publisher, QoS, UserProperties } from '@junction/broker-core';
import { LOG } from '../log-events.js';
import type { LogLimiter } from '../log-limit.js';
import { RuleEvalError, bytesOf, isMap, jsonEncode, textOf, toStr, type Value } from '../runtime/values.js';
import { Template } from './template.js';
import type { Action, Origin, RuleOutput } from './types.js';

export interface RepublishArgs {
  topic: string;
  qos?: number | string;
  retain?: boolean | string;
  payload?: string;
  mqtt_properties?: Record<string, string | number | boolean>;
  user_properties?: string;
}

export interface RepublishDeps {
  publish(req: PublishRequest, from: Partial<Publisher>): void;
  /** Run `fn` with `origin` as the origin of whatever it publishes. */
  withOrigin(origin: Origin, fn: () => void): void;
  readonly maxDepth: number;
  readonly log: Logger;
  readonly limiter: LogLimiter;
}

const PROPERTY_NAMES = ['Payload-Format-Indicator', 'Message-Expiry-Interval', 'Content-Type', 'Response-Topic', 'Correlation-Data'] as const;

function toQos(v: Value): QoS {
  if (v === undefined || v === null || v === '') return 0;
  const n = typeof v === 'number' ? v : Number(textOf(v));
  if (n === 0 || n === 1 || n === 2) return n;
  throw new RuleEvalError(`republish: QoS must be 0, 1 or 2, got ${toStr(v)}`);
}

function toRetain(v: Value): boolean {
  return v === true || v === 'true' || v === 1;
}

function userProps(v: Value): UserProperties | undefined {
  const out: UserProperties = {};
  const add = (k: string, x: Value) => {
    const s = toStr(x);
    const cur = out[k];
    out[k] = cur === undefined ? s : Array.isArray(cur) ? [...cur, s] : [cur, s];
  };
  if (isMap(v)) for (const [k, x] of Object.entries(v)) add(k, x);
  else if (Array.isArray(v)) {
    for (const p of v) {
      if (isMap(p) && p.key !== undefined) add(toStr(p.key), p.value);
      else if (Array.isArray(p) && p.length === 2) add(toStr(p[0]), p[1]);
    }
  } else return undefined;
  return Object.keys(out).length > 0 ? out : undefined;
}

export function republishAction(ruleId: string, args: RepublishArgs, deps: RepublishDeps): Action {
  const topic = new Template(args.topic);
  const payload = new Template(args.payload ?? '');
  const qos = typeof args.qos === 'string' ? new Template(args.qos) : undefined;
  const retain = typeof args.retain === 'string' ? new Template(args.retain) : undefined;
  const props = Object.entries(args.mqtt_properties ?? {})
    .filter(([k]) => (PROPERTY_NAMES as readonly string[]).includes(k))
    .map(([k, v]) => [k, new Template(String(v))] as const);
  const user = new Template(args.user_properties ?? '${user_properties}');

  const build = ({ data, event }: RuleOutput): PublishRequest => {
    const properties: MessageProperties = {};
    for (const [k, t] of props) {
      const v = t.value(data, event);
      if (v === undefined || v === '') continue;
      if (k === 'Payload-Format-Indicator') properties.payloadFormatIndicator = v === true || Number(toStr(v)) === 1;
      else if (k === 'Message-Expiry-Interval') properties.messageExpiryInterval = Number(toStr(v));
      else if (k === 'Content-Type') properties.contentType = toStr(v);
      else if (k === 'Response-Topic') properties.responseTopic = toStr(v);
      else properties.correlationData = bytesOf(v) ?? Buffer.from(toStr(v));
    }
    const up = userProps(user.value(data, event));
    if (up) properties.userProperties = up;
    return {
      topic: topic.render(data, event),
      // An empty payload template publishes the whole output as JSON.
      payload: payload.isEmpty ? Buffer.from(jsonEncode(data)) : payload.bytes(data, event),
      qos: qos ? toQos(qos.value(data, event)) : toQos(args.qos),
      retain: retain ? toRetain(retain.value(data, event)) : args.retain === true,
      properties: Object.keys(properties).length > 0 ? properties : undefined,
    };
  };

  return {
    name: 'republish',
    run(output, origin) {
      const loop = origin.chain.includes(ruleId);
      if (loop || origin.chain.length >= deps.maxDepth) {
        const event = loop ? LOG.recursiveRepublish : LOG.republishDepthExceeded;
        const admitted = deps.limiter.admit(`${ruleId}:${event}`);
        if (admitted) deps.log.warn({ rule_id: ruleId, chain: origin.chain, topic: args.topic, suppressed: admitted.suppressed }, event);
        return 'discarded';
      }
      const req = build(output);
      deps.withOrigin({ chain: [...origin.chain, ruleId] }, () => deps.publish(req, { clientId: ruleId, protocol: '$rule' }));
      return 'success';
    },
  };
}

