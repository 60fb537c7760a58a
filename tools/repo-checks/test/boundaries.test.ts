import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ALLOWED } from '../boundaries.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Project {
  name: string;
  dir: string;
  tags: string[];
  deps: string[];
}

function projects(): Project[] {
  const out: Project[] = [];
  for (const group of ['packages', 'apps', 'tools']) {
    for (const entry of readdirSync(join(root, group))) {
      const dir = join(root, group, entry);
      let pkg: { name: string; nx?: { tags?: string[] }; dependencies?: Record<string, string> };
      try {
        pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      } catch {
        continue;
      }
      out.push({ name: pkg.name, dir, tags: pkg.nx?.tags ?? [], deps: Object.keys(pkg.dependencies ?? {}) });
    }
  }
  return out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) out.push(p);
    }
  };
  try {
    walk(join(dir, 'src'));
  } catch {
    /* no src */
  }
  return out;
}

const all = projects();
const byName = new Map(all.map((p) => [p.name, p]));

function allowed(from: Project, to: Project): boolean {
  return from.tags.some((t) => {
    const rule = ALLOWED[t] ?? [];
    return rule.includes('*') || to.tags.some((tt) => rule.includes(tt));
  });
}

describe('package boundaries (Nx tags)', () => {
  it('every project has a known scope tag', () => {
    for (const p of all) expect(p.tags.filter((t) => t in ALLOWED), p.name).not.toHaveLength(0);
  });

  it.each(all.map((p) => [p.name, p] as const))('%s imports only what its tags allow', (_name, p) => {
    const used = new Set<string>(p.deps.filter((d) => byName.has(d)));
    for (const file of sourceFiles(p.dir)) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/from\s+['"](@junction\/[^/'"]+)(\/[^'"]*)?['"]/g)) {
        used.add(m[1]!);
        // Only published entry points (the main one, `/testing`, `/schema`): no deep imports into another package's files.
        if (m[2] && m[1] !== p.name) expect(['/testing', '/schema'], `${relative(root, file)} imports ${m[0]}`).toContain(m[2]);
      }
    }
    for (const dep of used) {
      if (dep === p.name) continue;
      const target = byName.get(dep);
      expect(target, `${p.name} depends on unknown ${dep}`).toBeDefined();
      expect(allowed(p, target!), `${p.name} (${p.tags}) may not depend on ${dep} (${target!.tags})`).toBe(true);
    }
  });

  it('rejects a forbidden edge (the rule can fail)', () => {
    const core = all.find((p) => p.tags.includes('scope:core'))!;
    const adapter = all.find((p) => p.tags.includes('scope:adapter'))!;
    expect(allowed(core, adapter)).toBe(false);
    expect(allowed(adapter, core)).toBe(true);
  });
});

describe('no machine paths in tracked sources', () => {
  it('has no absolute home or work paths', () => {
    const offenders: string[] = [];
    for (const p of all) {
      for (const file of sourceFiles(p.dir)) {
        if (/(["'`])\/(work|root|home)\//.test(readFileSync(file, 'utf8'))) offenders.push(relative(root, file));
      }
    }
    expect(offenders).toEqual([]);
  });
});
