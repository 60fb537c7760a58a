/** `<jn-retained-page>`: retained messages (`/mqtt/retainer/messages`), a payload viewer, delete. */
import { LitElement, html } from 'lit';
import { api, query, seg, type Paged } from '../api.js';
import '../components/confirm-button.js';
import { fmtTime, payloadText, plural } from '../format.js';
import { Poll } from '../poll.js';
import { shared } from '../styles.js';

interface Retained {
  topic: string;
  qos: number;
  from_clientid: string;
  from_username: string;
  publish_at: string;
  payload?: string;
}

export class RetainedPage extends LitElement {
  static override properties = { rows: { state: true }, filter: { state: true }, open: { state: true }, error: { state: true } };
  declare rows: Retained[];
  declare filter: string;
  declare open: Retained | undefined;
  declare error: string;
  private readonly poll: Poll;

  constructor() {
    super();
    this.rows = [];
    this.filter = '';
    this.open = undefined;
    this.error = '';
    this.poll = new Poll(this, () => this.refresh(), 5000);
  }

  static override styles = [shared];

  private async refresh(): Promise<void> {
    try {
      this.rows = (await api.get<Paged<Retained>>(`mqtt/retainer/messages${query({ limit: 1000, topic: this.filter.trim() || undefined })}`)).data;
      this.error = '';
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private async show(topic: string): Promise<void> {
    try {
      this.open = await api.get<Retained>(`mqtt/retainer/message/${seg(topic)}`);
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private async drop(topic: string): Promise<void> {
    try {
      await api.del(`mqtt/retainer/message/${seg(topic)}`);
      if (this.open?.topic === topic) this.open = undefined;
    } catch (err) {
      this.error = (err as Error).message;
    }
    await this.poll.run();
  }

  override render() {
    return html`
      <h1>Retained messages</h1>
      ${this.error ? html`<div class="error">${this.error}</div>` : ''}
      <div class="card">
        <div class="row" style="margin-bottom:12px">
          <input
            id="filter"
            type="search"
            style="min-width:320px"
            placeholder="Topic filter, e.g. status/#"
            .value=${this.filter}
            @input=${(e: Event) => {
              this.filter = (e.target as HTMLInputElement).value;
              void this.poll.run();
            }}
          />
          <span class="spacer"></span><span class="muted">${plural(this.rows.length, 'message')}</span>
        </div>
        <table id="retained">
          <thead><tr><th>Topic</th><th>QoS</th><th>From</th><th>Published</th><th></th></tr></thead>
          <tbody>
            ${this.rows.map(
              (r) => html`<tr data-topic=${r.topic}>
                <td class="mono">${r.topic}</td>
                <td>${r.qos}</td>
                <td class="mono">${r.from_clientid}</td>
                <td>${fmtTime(r.publish_at)}</td>
                <td class="actions"><button class="small" @click=${() => this.show(r.topic)}>Payload</button> <jn-confirm @confirm=${() => this.drop(r.topic)}></jn-confirm></td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${this.rows.length === 0 ? html`<div class="empty">No retained messages.</div>` : ''}
      </div>
      ${this.open
        ? html`<div class="card" id="payload">
            <div class="row" style="margin-bottom:8px"><h2 style="margin:0" class="mono">${this.open.topic}</h2><span class="spacer"></span><button class="small" @click=${() => (this.open = undefined)}>Close</button></div>
            <pre>${this.open.payload === undefined ? '' : payloadText(this.open.payload)}</pre>
          </div>`
        : ''}
    `;
  }
}

customElements.define('jn-retained-page', RetainedPage);
