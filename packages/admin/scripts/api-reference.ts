/** Writes docs/api-reference.md from the server's OpenAPI document: `npm run docs -w @junction/admin`. */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiDocument, renderApiReference } from '../src/api-reference.js';

const path = fileURLToPath(new URL('../../../docs/api-reference.md', import.meta.url));
writeFileSync(path, renderApiReference(await apiDocument()));
