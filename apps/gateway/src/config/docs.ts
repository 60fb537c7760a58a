/** The Markdown configuration reference, generated from the schema (`junction config-docs`). */
import type { TSchema } from '@sinclair/typebox';
import { describeType } from './describe.js';
import { FORMAT_EXPECTED, formatOf } from '@junction/broker-core';
import { asRecord } from './walk.js';

/** One documented key. */
export interface DocRow {
  /** Dotted path; map entries are `<name>`, array items `[]`. */
  readonly path: string;
  readonly type: string;
  /** The default as written in YAML, `required`, or `-` (optional, no default). */
  readonly default: string;
  readonly description: string;
}

/** Every key under `schema`, parents before children, in declaration order. */
export function docRows(schema: TSchema, prefix = ''): DocRow[] {
  const s = asRecord(schema);
  const rows: DocRow[] = [];
  const entries: [string, TSchema, boolean][] = [];
  if (formatOf(schema)) return rows;
  if (s.anyOf) {
    const seen = new Set<string>();
    for (const branch of s.anyOf) {
      for (const row of docRows(branch, prefix)) {
        if (!seen.has(row.path)) rows.push(row);
        seen.add(row.path);
      }
    }
    return rows;
  }
  if (s.type === 'array' && s.items) return docRows(s.items, `${prefix}[]`);
  for (const [key, inner] of Object.entries(s.properties ?? {})) entries.push([key, inner, s.required?.includes(key) ?? false]);
  for (const inner of Object.values(s.patternProperties ?? {})) entries.push(['<name>', inner, false]);
  if (typeof s.additionalProperties === 'object') entries.push(['<name>', s.additionalProperties, false]);
  for (const [key, inner, required] of entries) {
    const path = prefix ? `${prefix}.${key}` : key;
    rows.push({ path, type: describeType(inner), default: showDefault(inner, required), description: asRecord(inner).description ?? '' });
    rows.push(...docRows(inner, path));
  }
  return rows;
}

function showDefault(schema: TSchema, required: boolean): string {
  const s = asRecord(schema);
  if ('default' in s) return typeof s.default === 'string' && s.default !== '' ? s.default : JSON.stringify(s.default);
  return required ? 'required' : '-';
}

/** The reference: an introduction to value formats, then one table per top-level section. */
export function configDocs(schema: TSchema): string {
  const out: string[] = [
    '# Junction configuration reference',
    '',
    'Generated from the configuration schema by `junction config-docs`; do not edit by hand.',
    'Any key can also be set from the environment: `JUNCTION__NODE__NAME=edge1@10.0.0.5` sets `node.name`.',
    '',
    'Value formats:',
    '',
    ...Object.entries(FORMAT_EXPECTED).map(([name, expected]) => `- **${name === 'bind' ? 'bind address' : name}**: ${expected}.`),
    '- **map of X**: named entries, e.g. `listeners.tcp.default`; `<name>` in a key stands for the entry name.',
    '',
  ];
  const top = asRecord(schema).properties ?? {};
  for (const [section, inner] of Object.entries(top)) {
    out.push(`## ${section}`, '');
    const description = asRecord(inner).description;
    if (description) out.push(description, '');
    // A section that is a plain object is described by its keys; any other gets a row of its own.
    const own = describeType(inner) === 'object' ? [] : [{ path: section, type: describeType(inner), default: showDefault(inner, false), description: '' }];
    out.push('| Key | Type | Default | Description |', '| --- | --- | --- | --- |');
    for (const row of [...own, ...docRows(inner, section)]) {
      out.push(`| ${code(row.path)} | ${cell(row.type)} | ${row.default === '-' || row.default === 'required' ? row.default : code(row.default)} | ${cell(row.description)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

function code(text: string): string {
  return `\`${cell(text)}\``;
}
