/**
 * Tells when any of a set of files may have changed: file-system notifications on their folders
 * (which survive files replaced by rename) and a poll as the fallback. Callers re-read and compare.
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { TlsLogger } from './logger.js';

export class FileWatcher {
  private readonly watchers: FSWatcher[] = [];
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;

  constructor(
    files: readonly string[],
    pollMs: number,
    private readonly onChange: () => void,
    log: TlsLogger,
    debounceMs = 100,
  ) {
    const byDir = new Map<string, Set<string>>();
    for (const f of files) {
      const abs = resolve(f);
      const names = byDir.get(dirname(abs)) ?? new Set<string>();
      names.add(basename(abs));
      byDir.set(dirname(abs), names);
    }
    const fire = () => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.onChange(), debounceMs);
      this.debounce.unref();
    };
    for (const [dir, names] of byDir) {
      try {
        const w = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null || names.has(name.toString())) fire();
        });
        w.on('error', (err) => log.warn({ dir, err }, 'tls_watch_failed'));
        this.watchers.push(w);
      } catch (err) {
        log.warn({ dir, err }, 'tls_watch_failed');
      }
    }
    if (pollMs > 0) {
      this.poll = setInterval(() => this.onChange(), pollMs);
      this.poll.unref();
    }
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers.length = 0;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }
}
