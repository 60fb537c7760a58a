/**
 * The state of a page that lists rows from the admin API and changes them: it polls the list (through `Poll`), keeps the error and the notice the page shows above it, and runs a
 * change (an add form, a delete, ...) so that its outcome becomes the notice or the error and the
 * list is fetched again at once.
 */
import { html, type ReactiveControllerHost } from 'lit';
import { Poll } from './poll.js';

export interface ListStateOptions<Row> {
  /** Fetches the rows. */
  load: () => Promise<Row[]>;
  /** Polling period. */
  ms: number;
  /** The error text for a failed load (default: the error's message). */
  loadError?: (err: unknown) => string;
}

export class ListState<Row> {
  private _rows: Row[] = [];
  /** The last change's failure: stays until the next change, whatever the polls bring. */
  private changeError = '';
  private loadError = '';
  private _notice = '';
  readonly poll: Poll;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly opts: ListStateOptions<Row>,
  ) {
    this.poll = new Poll(host, () => this.refresh(), opts.ms);
  }

  get rows(): Row[] {
    return this._rows;
  }
  get error(): string {
    return this.changeError || this.loadError;
  }
  get notice(): string {
    return this._notice;
  }

  private async refresh(): Promise<void> {
    try {
      this._rows = await this.opts.load();
      this.loadError = '';
    } catch (err) {
      this.loadError = this.opts.loadError?.(err) ?? (err as Error).message;
    }
    this.host.requestUpdate();
  }

  /**
   * An add form's submit: `change` gets the form's data and returns the notice; on success the
   * error is cleared and the form reset. Then the list is fetched again.
   */
  async submit(e: SubmitEvent, change: (data: FormData) => Promise<string>): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    try {
      this._notice = await change(new FormData(form));
      this.changeError = '';
      form.reset();
    } catch (err) {
      this._notice = '';
      this.changeError = (err as Error).message;
    }
    this.host.requestUpdate();
    await this.poll.run();
  }

  /** Any other change (delete, save a row): its notice or its error, then the list again. */
  async run(change: () => Promise<string>): Promise<void> {
    try {
      this._notice = await change();
      this.changeError = '';
    } catch (err) {
      this._notice = '';
      this.changeError = (err as Error).message;
    }
    this.host.requestUpdate();
    await this.poll.run();
  }

  /** The error and the notice, for the top of the page. */
  messages() {
    const error = this.error;
    return html`${error ? html`<div class="error" role="alert">${error}</div>` : ''} ${this._notice ? html`<div class="notice">${this._notice}</div>` : ''}`;
  }
}
