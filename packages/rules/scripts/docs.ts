/** Rewrites the generated sections of docs/rules.md: `npm run docs -w @junction/rules`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventReference, fillSection, functionReference } from '../src/reference.js';

const path = fileURLToPath(new URL('../../../docs/rules.md', import.meta.url));
let doc = readFileSync(path, 'utf8');
doc = fillSection(doc, 'functions', functionReference());
doc = fillSection(doc, 'events', eventReference());
writeFileSync(path, doc);
