/**
 * Topic templates of the OCPP gateway, as EMQX has them: `upstream.topic` (with per-action
 * overrides), `reply_topic`, `error_topic` and `dnstream.topic`, relative to the mountpoint.
 * Placeholders: `${cid}` and `${clientid}` (the charge point id), `${action}`, `${id}` (UniqueId).
 */
import { ConfigError, type TopicMapper } from '@junction/broker-core';
import type { DnstreamConfig, UpstreamConfig } from './config.js';

const PLACEHOLDER = /\$\{([^}]*)\}/g;
const ALL_VARS = ['cid', 'clientid', 'action', 'id'] as const;
const CHARGER_VARS = ['cid', 'clientid'] as const;

export interface TopicVars {
  cid: string;
  action?: string;
  id?: string;
}

/** Fills `${cid}`, `${clientid}`, `${action}` and `${id}`; an unset variable becomes "". */
export function expandTemplate(template: string, vars: TopicVars): string {
  if (!template.includes('${')) return template;
  return template.replace(PLACEHOLDER, (_, name: string) => {
    if (name === 'cid' || name === 'clientid') return vars.cid;
    if (name === 'action') return vars.action ?? '';
    if (name === 'id') return vars.id ?? '';
    return '';
  });
}

/** Throws `ConfigError` naming the key when a template is unusable. */
export function checkTemplate(path: string, template: string, allowed: readonly string[] = ALL_VARS): void {
  if (template === '') throw new ConfigError(path, 'a topic may not be empty');
  if (/[+#]/.test(template)) throw new ConfigError(path, `a topic may not contain the wildcards + or #: ${JSON.stringify(template)}`);
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!allowed.includes(name ?? '')) {
      throw new ConfigError(path, `unknown placeholder \${${name}} in ${JSON.stringify(template)}; use ${allowed.map((v) => `\${${v}}`).join(', ')}`);
    }
  }
}

/** Where each kind of message goes, for one gateway. */
export class OcppTopics {
  private readonly overrides: ReadonlyMap<string, string>;

  constructor(
    private readonly upstream: UpstreamConfig,
    private readonly dnstreamConfig: DnstreamConfig,
    private readonly mapper: TopicMapper,
  ) {
    checkTemplate('gateway.ocpp.upstream.topic', upstream.topic);
    checkTemplate('gateway.ocpp.upstream.reply_topic', upstream.reply_topic);
    checkTemplate('gateway.ocpp.upstream.error_topic', upstream.error_topic);
    if (upstream.event_topic !== '') checkTemplate('gateway.ocpp.upstream.event_topic', upstream.event_topic, CHARGER_VARS);
    checkTemplate('gateway.ocpp.dnstream.topic', dnstreamConfig.topic, CHARGER_VARS);
    for (const [action, t] of Object.entries(upstream.topic_override_mapping)) checkTemplate(`gateway.ocpp.upstream.topic_override_mapping.${action}`, t);
    this.overrides = new Map(Object.entries(upstream.topic_override_mapping));
  }

  /** A CALL from the charger. */
  call(client: Client, action: string, id: string): string {
    return this.mount(this.overrides.get(action) ?? this.upstream.topic, client, { cid: client.clientId, action, id });
  }

  /** A CALLRESULT from the charger. */
  reply(client: Client, action: string | undefined, id: string): string {
    return this.mount(this.upstream.reply_topic, client, { cid: client.clientId, action, id });
  }

  /** A CALLERROR from the charger, or an error the gateway reports. */
  error(client: Client, action: string | undefined, id: string): string {
    return this.mount(this.upstream.error_topic, client, { cid: client.clientId, action, id });
  }

  /** The charger's connection events; undefined when disabled. */
  event(client: Client): string | undefined {
    return this.upstream.event_topic === '' ? undefined : this.mount(this.upstream.event_topic, client, { cid: client.clientId });
  }

  /** What the charger is subscribed to. */
  dnstream(client: Client): string {
    return this.mount(this.dnstreamConfig.topic, client, { cid: client.clientId });
  }

  private mount(template: string, client: Client, vars: TopicVars): string {
    return this.mapper.mount(expandTemplate(template, vars), client);
  }
}

type Client = { clientId: string; username?: string };
