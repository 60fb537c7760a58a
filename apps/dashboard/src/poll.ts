/**
 * A reactive controller that calls `fn` now and every `ms` while its element is on the page and
 * the tab is visible; one call at a time (a slow answer is never overlapped by the next).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';

export class Poll implements ReactiveController {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private active = false;
  private busy = false;
  private again = false;
  private readonly onVisibility = () => {
    if (!document.hidden && this.active) this.run();
  };

  constructor(
    host: ReactiveControllerHost,
    private readonly fn: () => Promise<void>,
    private readonly ms: number,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.active = true;
    document.addEventListener('visibilitychange', this.onVisibility);
    this.run();
  }

  hostDisconnected(): void {
    this.active = false;
    document.removeEventListener('visibilitychange', this.onVisibility);
    clearTimeout(this.timer);
  }

  /** Call now (e.g. after a change) and restart the period. */
  run = async (): Promise<void> => {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    clearTimeout(this.timer);
    try {
      await this.fn();
    } catch {
      // the page shows its own error state
    } finally {
      this.busy = false;
    }
    if (this.again) {
      this.again = false;
      return this.run();
    }
    if (this.active && !document.hidden) this.timer = setTimeout(this.run, this.ms);
  };
}
