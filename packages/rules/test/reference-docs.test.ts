import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtinFunctions, EVENTS } from '../src/index.js';
import { eventReference, fillSection, functionReference } from '../src/reference.js';

const doc = readFileSync(fileURLToPath(new URL('../../../docs/rules.md', import.meta.url)), 'utf8');

describe('docs/rules.md', () => {
  it('has the function and event reference generated from the tables (npm run docs -w @junction/rules)', () => {
    expect(fillSection(fillSection(doc, 'functions', functionReference()), 'events', eventReference())).toBe(doc);
  });

  it('lists every function and every event topic', () => {
    for (const f of builtinFunctions.list()) expect(doc).toContain(`\`${f.signature.replaceAll('|', '\\|')}\``);
    for (const e of EVENTS) for (const t of e.topics) expect(doc).toContain(t);
  });
});
