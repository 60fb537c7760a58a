import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { apiDocument, renderApiReference } from '../src/api-reference.js';
import { startAdmin, type AdminFixture } from './helpers.js';

let f: AdminFixture | undefined;
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

describe('docs/api-reference.md', () => {
  it('is what the OpenAPI document generates now (regenerate: npm run docs -w @junction/admin)', async () => {
    const file = readFileSync(fileURLToPath(new URL('../../../docs/api-reference.md', import.meta.url)), 'utf8');
    const fresh = renderApiReference(await apiDocument());
    expect(fresh.split('\n')).toEqual(file.split('\n'));
    for (const route of ['PUT /api/v5/listeners/{id}/{action}', 'PUT /api/v5/gateways/{name}/enable/{enable}', 'GET /api/v5/configs', 'PUT /api/v5/configs/{section}', 'POST /api/v5/trace', 'GET /api/v5/trace/{name}/download']) {
      expect(fresh).toContain(`### \`${route}\``);
    }
  });
});

describe('OpenAPI document', () => {
  it('is served without credentials at /api-docs/openapi.json (and EMQX’s /api-docs/swagger.json), with the new routes', async () => {
    f = await startAdmin();
    const r = await fetch(`${f.base}/api-docs/openapi.json`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/api/v5/listeners/{id}/{action}'] ?? {}).sort()).toEqual(['post', 'put']);
    expect(doc.paths['/api/v5/trace']).toHaveProperty('post');
    expect(doc.paths['/api/v5/configs/{section}']).toHaveProperty('put');
    expect(doc.paths).not.toHaveProperty('/api-docs/openapi.json');
    expect((await fetch(`${f.base}/api-docs/swagger.json`)).status).toBe(200);
    expect((await f.api('GET', '/api/v5/openapi.json')).body).toEqual(doc);
  });
});
