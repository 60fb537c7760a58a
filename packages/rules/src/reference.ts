/**
 * The reference sections of docs/rules.md, generated from the function table and the event
 * catalogue (a test keeps the document in step; `npm run docs -w @junction/rules` rewrites it).
 */
import { EVENTS } from './events/catalog.js';
import { builtinFunctions } from './functions/index.js';
import type { FunctionFamily } from './functions/registry.js';

const FAMILY_TITLES: Record<FunctionFamily, string> = {
  math: 'Mathematics',
  type: 'Type tests',
  conversion: 'Conversions',
  string: 'Strings',
  map: 'Maps',
  array: 'Arrays (1-based)',
  hash: 'Hashes',
  compression: 'Compression',
  encoding: 'Encodings',
  bits: 'Bits and binaries',
  time: 'Date and time',
  random: 'Random values and UUIDs',
  message: 'The current event',
  conditional: 'Conditionals',
  kv: 'Key-value store',
};

const cell = (s: string) => s.replaceAll('|', '\\|');

/** Markdown: one table per family, in table order. */
export function functionReference(): string {
  const out: string[] = [];
  for (const [family, title] of Object.entries(FAMILY_TITLES) as [FunctionFamily, string][]) {
    const fns = builtinFunctions.list().filter((f) => f.family === family);
    if (fns.length === 0) continue;
    out.push(`### ${title}`, '', '| Function | What it does |', '| --- | --- |');
    for (const f of fns) out.push(`| \`${cell(f.signature)}\` | ${cell(f.summary)} |`);
    out.push('');
  }
  return out.join('\n');
}

/** Markdown: each event source with its FROM topics and fields. */
export function eventReference(): string {
  const out: string[] = [];
  for (const e of EVENTS) {
    const from = e.topics.length > 0 ? e.topics.map((t) => `\`"${t}"\``).join(', ') : 'a topic filter, e.g. `"t/#"`';
    out.push(`### \`${e.name}\`${e.emitted ? '' : ' (not emitted yet)'}`, '', `${e.description} FROM ${from}.`, '', '| Field | Meaning |', '| --- | --- |');
    for (const [k, v] of Object.entries(e.fields)) out.push(`| \`${k}\` | ${cell(v)} |`);
    out.push('');
  }
  return out.join('\n');
}

/** Replace the text between `<!-- name:start -->` and `<!-- name:end -->`. */
export function fillSection(doc: string, name: string, body: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`section ${name} not found`);
  return `${doc.slice(0, a + start.length)}\n${body}\n${doc.slice(b)}`;
}
