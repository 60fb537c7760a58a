/**
 * The gateway's config schema: its own sections (`node`, `log`, `sys_topics`) plus the sections
 * adapters and the core contribute under dotted paths (`mqtt`, `listeners.tcp`, `gateway.coap`).
 */
import { Type, type Static, type TObject, type TSchema } from '@sinclair/typebox';
import { LOG_FORMATS, LOG_LEVELS } from '../logger.js';
import { splitPath } from './path.js';
import { sysTopicsSchema } from '@junction/broker-core';
import { asRecord } from './walk.js';

export const nodeSchema = Type.Object(
  {
    name: Type.String({ default: 'junction@127.0.0.1', minLength: 1, description: 'Node name, `name@host` as in EMQX; identifies this node in logs, $SYS topics and a cluster.' }),
    data_dir: Type.String({ default: './data', minLength: 1, description: 'Directory for durable data (sessions, retained messages); relative to the working directory.' }),
    cookie: Type.Optional(Type.String({ minLength: 1, description: 'Shared secret nodes of one cluster use to recognise each other. Not needed for a single node.' })),
    workers: Type.Union([Type.Integer({ minimum: 0, maximum: 256 }), Type.Literal('auto')], {
      default: 1,
      description:
        'Processes serving the listeners (`junction start`): 0 or 1 runs one process; N > 1 forks N workers that share the ports and act as one broker; `auto` is one per CPU. Needs `durable_sessions.enable: false`; see docs/performance.md.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'This node: its name and where it keeps data.' },
);

export const logSchema = Type.Object(
  {
    level: Type.Union(
      LOG_LEVELS.map((l) => Type.Literal(l)),
      { default: 'info', description: 'Lowest level logged: trace, debug, info, warn, error, fatal, or silent.' },
    ),
    format: Type.Union(
      LOG_FORMATS.map((f) => Type.Literal(f)),
      { default: 'text', description: '`text`: one readable line per event, for a terminal; `json`: one JSON object per line, for log collectors.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'Logging to standard output.' },
);


const baseSections = { node: nodeSchema, log: logSchema, sys_topics: sysTopicsSchema } as const;

/** The sections every gateway config has, in their parsed form. */
export type BaseGatewayConfig = { [K in keyof typeof baseSections]: Static<(typeof baseSections)[K]> };

/** A loaded gateway config: the base sections plus adapter sections by key. */
export type GatewayConfig = BaseGatewayConfig & { readonly [section: string]: unknown };

/** Descriptions of the objects that group sections, by dotted path. */
export const DEFAULT_GROUP_DESCRIPTIONS: Readonly<Record<string, string>> = {
  listeners: 'Listeners of the MQTT broker, by transport (tcp, ssl, ws, wss, quic) and then by name.',
  gateway: 'Protocol gateways that translate other protocols onto the MQTT bus.',
};

const SEGMENT = /^[a-z][a-z0-9_]*$/;

/** An object made for the parents of dotted section paths. */
class Group {
  readonly children = new Map<string, Group | TSchema>();
  constructor(readonly path: string) {}
}

/**
 * Composes the top-level schema. `sections` maps dotted paths to section schemas; objects are
 * created for the path's parents (each defaults to `{}`). A section whose schema has a `default`
 * is always present in the loaded config; one without is optional, and absent unless configured
 * (the composition root reads that as "not enabled"). Throws on invalid or overlapping paths.
 */
export function buildGatewaySchema(
  sections: Readonly<Record<string, TSchema>>,
  groupDescriptions: Readonly<Record<string, string>> = DEFAULT_GROUP_DESCRIPTIONS,
): TObject {
  const root = new Group('');
  for (const [key, schema] of Object.entries(baseSections)) root.children.set(key, schema);
  for (const [path, schema] of Object.entries(sections)) {
    const segments = splitPath(path);
    if (segments.length === 0 || !segments.every((s) => SEGMENT.test(s))) {
      throw new Error(`invalid config section path ${JSON.stringify(path)}: use dotted lower-case names like "gateway.coap"`);
    }
    let group = root;
    for (const [i, segment] of segments.entries()) {
      const existing = group.children.get(segment);
      const here = segments.slice(0, i + 1).join('.');
      if (i === segments.length - 1) {
        if (existing) throw new Error(`config section ${JSON.stringify(path)} overlaps ${JSON.stringify(here)}, which is already defined`);
        group.children.set(segment, schema);
      } else if (existing === undefined) {
        const child = new Group(here);
        group.children.set(segment, child);
        group = child;
      } else if (existing instanceof Group) {
        group = existing;
      } else {
        throw new Error(`config section ${JSON.stringify(path)} is inside section ${JSON.stringify(here)}, which is already defined`);
      }
    }
  }
  return toSchema(root, groupDescriptions);
}

function toSchema(group: Group, descriptions: Readonly<Record<string, string>>): TObject {
  const properties: Record<string, TSchema> = {};
  for (const [key, child] of group.children) {
    if (child instanceof Group) properties[key] = toSchema(child, descriptions);
    else properties[key] = 'default' in asRecord(child) ? child : Type.Optional(child);
  }
  if (group.path === '') {
    return Type.Object(properties, { additionalProperties: false, description: 'Junction gateway configuration.' });
  }
  const description = descriptions[group.path] ?? `Settings under \`${group.path}\`.`;
  return Type.Object(properties, { additionalProperties: false, default: {}, description });
}
