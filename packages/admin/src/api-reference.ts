/**
 * docs/api-reference.md, generated from the OpenAPI document that the server builds from its
 * route schemas (`npm run docs -w @junction/admin`; a test regenerates it in memory and fails
 * when the file differs, so it cannot go stale).
 */
import { BrokerCore, silentLogger } from '@junction/broker-core';
import { AdminUserStore } from './security/admin-users.js';
import { createAdminServer } from './server.js';

interface Schema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  const?: unknown;
  $ref?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  additionalProperties?: boolean | Schema;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  description?: string;
  schema?: Schema;
}
interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
  security?: unknown[];
}
export interface OpenApiDocument {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
}

/** The OpenAPI document of a server with every optional part left out (the routes are the same). */
export async function apiDocument(): Promise<OpenApiDocument> {
  const broker = new BrokerCore({ log: silentLogger });
  const server = createAdminServer({ broker, admins: new AdminUserStore({ iterations: 1000 }), env: { JUNCTION_DASHBOARD__DEFAULT_PASSWORD: 'Docs-only-1' } });
  try {
    await server.ready();
    return JSON.parse(JSON.stringify(server.swagger())) as OpenApiDocument;
  } finally {
    await server.stop();
    await broker.close();
  }
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

/** The Markdown reference of every route, grouped by tag in the order the server registers them. */
export function renderApiReference(doc: OpenApiDocument): string {
  const byTag = new Map<string, string[]>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = ops[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push(operation(method, path, op));
    }
  }
  const out = [
    '# REST API reference',
    '',
    '<!-- Generated from the OpenAPI document by `npm run docs -w @junction/admin`; do not edit by hand. -->',
    '',
    `${doc.info.title}: every route with its parameters, body and answers, generated from the route schemas. The guide (login, API keys, roles, examples) is [admin.md](admin.md); the same document is served as OpenAPI 3 at \`GET /api-docs/openapi.json\` (public) and \`GET /api/v5/openapi.json\`.`,
    '',
    'Every route needs a login token (`Authorization: Bearer …`) or an API key (`Authorization: Basic base64(key:secret)`) unless marked **public**. Errors answer `{"code", "message"}`.',
    '',
    ...[...byTag.keys()].map((t) => `- [${t}](#${anchor(t)})`),
    '',
  ];
  for (const [tag, ops] of byTag) out.push(`## ${tag}`, '', ...ops);
  return `${out.join('\n').trimEnd()}\n`;
}

function operation(method: string, path: string, op: Operation): string {
  const lines = [`### \`${method.toUpperCase()} ${path}\``, ''];
  const pub = Array.isArray(op.security) && op.security.length === 0;
  if (op.summary) lines.push(`${op.summary}${pub ? ' (**public**)' : ''}`, '');
  else if (pub) lines.push('**Public.**', '');
  if (op.description) lines.push(op.description, '');
  const params = op.parameters ?? [];
  if (params.length > 0) {
    lines.push('| parameter | in | type | required | description |', '|---|---|---|---|---|');
    for (const p of params) lines.push(`| \`${p.name}\` | ${p.in} | ${cell(typeOf(p.schema))} | ${p.required ? 'yes' : ''} | ${cell(describe(p.schema, p.description))} |`);
    lines.push('');
  }
  const body = op.requestBody?.content?.['application/json']?.schema;
  if (body) {
    const fields = Object.entries(body.properties ?? {});
    if (fields.length > 0) {
      lines.push('| body field | type | required | description |', '|---|---|---|---|');
      for (const [name, s] of fields) lines.push(`| \`${name}\` | ${cell(typeOf(s))} | ${body.required?.includes(name) ? 'yes' : ''} | ${cell(describe(s))} |`);
      lines.push('');
    } else lines.push(`Body: ${typeOf(body)}${body.description ? `: ${body.description}` : ''}.`, '');
  }
  const responses = Object.entries(op.responses ?? {});
  if (responses.length > 0) {
    const ok: string[] = [];
    const errs: string[] = [];
    for (const [code, r] of responses) {
      const schema = Object.values(r.content ?? {})[0]?.schema;
      if (Number(code) >= 400 && isError(schema)) {
        errs.push(`\`${code}\``);
        continue;
      }
      const what = r.description && r.description !== 'Default Response' ? r.description.replace(/\.$/, '') : schema ? typeOf(schema) : '';
      ok.push(`\`${code}\`${what ? ` ${what}` : ''}`);
    }
    lines.push(`Answers: ${[...ok, ...(errs.length > 0 ? [`errors ${errs.join(', ')}`] : [])].join('; ')}.`, '');
  }
  return lines.join('\n');
}

/** EMQX's `{code, message}`. */
function isError(s: Schema | undefined): boolean {
  const keys = Object.keys(s?.properties ?? {});
  return keys.length === 2 && keys.includes('code') && keys.includes('message');
}

function typeOf(s: Schema | undefined, depth = 0): string {
  if (!s) return '';
  if (s.$ref) return s.$ref.split('/').pop() ?? 'object';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' \\| ');
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map((a) => typeOf(a, depth + 1)).join(' \\| ');
  const t = Array.isArray(s.type) ? s.type.join(' \\| ') : s.type;
  if (t === 'array') return `array of ${typeOf(s.items, depth + 1) || 'any'}`;
  if (t === 'object' && s.properties && depth < 1) {
    const keys = Object.keys(s.properties);
    return keys.length > 0 ? `object {${keys.join(', ')}}` : 'object';
  }
  return t ?? 'any';
}

function describe(s: Schema | undefined, given?: string): string {
  const parts: string[] = [];
  const d = given ?? s?.description;
  if (d) parts.push(d);
  if (s?.default !== undefined) parts.push(`Default ${JSON.stringify(s.default)}.`);
  if (s?.pattern) parts.push(`Pattern \`${s.pattern}\`.`);
  return parts.join(' ');
}

function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/(?<!\\)\|/g, '\\|');
}

function anchor(tag: string): string {
  return tag.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-');
}
