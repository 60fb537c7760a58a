/**
 * Files shipped with the app, found relative to this module so that they resolve the same from
 * `src/` (under tsx) and from `dist/` (built): both sit one level below the package root.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The embedded default config, `config/junction.yaml` in the package. */
export function defaultConfigPath(): string {
  return fileURLToPath(new URL('../config/junction.yaml', import.meta.url));
}

/** The package version from `package.json`. */
export function packageVersion(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const version = (pkg as { version?: unknown }).version;
  return typeof version === 'string' ? version : 'unknown';
}
