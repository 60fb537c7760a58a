/**
 * Event-driven waiting for tests: a source calls `changed()` whenever something arrives, and
 * `until()` resolves as soon as a check passes, or fails with a description of what did arrive.
 */
export abstract class Waitable {
  private readonly waiters = new Set<() => boolean>();

  /** What has been received so far, for timeout messages. */
  protected abstract describe(): string;

  /** Re-run pending checks; call after every event. */
  protected changed(): void {
    for (const w of [...this.waiters]) w();
  }

  /**
   * Resolve with the first value `check` returns that is neither undefined nor false, checking now
   * and after every event; reject after `timeoutMs`.
   */
  until<T>(check: () => T | undefined | false, what: string, timeoutMs = 3000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(attempt);
      };
      const attempt = (): boolean => {
        let r: T | undefined | false;
        try {
          r = check();
        } catch (err) {
          cleanup();
          reject(err as Error);
          return true;
        }
        if (r === undefined || r === false) return false;
        cleanup();
        resolve(r as T);
        return true;
      };
      if (attempt()) return;
      timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; so far: ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(attempt);
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Short printable form of a packet for failure messages. */
export function brief(p: { cmd: string } & Record<string, unknown>): string {
  const parts: string[] = [p.cmd];
  if (typeof p.topic === 'string') parts.push(`topic=${p.topic}`);
  if (p.messageId !== undefined) parts.push(`id=${String(p.messageId)}`);
  if (p.reasonCode !== undefined) parts.push(`rc=0x${Number(p.reasonCode).toString(16)}`);
  if (p.returnCode !== undefined) parts.push(`rc=${String(p.returnCode)}`);
  if (Array.isArray(p.granted)) parts.push(`granted=${JSON.stringify(p.granted)}`);
  return parts.join(' ');
}
