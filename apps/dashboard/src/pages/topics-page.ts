/**
 * `<jn-topics-page>`: the routes (distinct subscribed filters, `/topics`) and every subscription
 * (`/subscriptions`), each with a search box; refreshed every 5 s.
 */
import { LitElement, html } from 'lit';
import { api, query, type Paged } from '../api.js';
import { plural } from '../format.js';
import { Poll } from '../poll.js';
import { href } from '../router.js';
import { shared } from '../styles.js';

interface Topic {
  topic: string;
  node: string;
}
interface Subscription {
  clientid: string;
  topic: string;
  qos: number;
  nl: number;
  rap: number;
  rh: number;
}

export class TopicsPage extends LitElement {
  static override properties = { tab: { type: String }, topics: { state: true }, subs: { state: true }, filter: { state: true }, error: { state: true } };
  declare tab: string;
  declare topics: Topic[];
  declare subs: Subscription[];
  declare filter: string;
  declare error: string;
  private readonly poll: Poll;

  constructor() {
    super();
    this.tab = 'topics';
    this.topics = [];
    this.subs = [];
    this.filter = '';
    this.error = '';
    this.poll = new Poll(this, () => this.refresh(), 5000);
  }

  static override styles = [shared];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('tab') && changed.get('tab') !== undefined) void this.poll.run();
  }

  private async refresh(): Promise<void> {
    const f = this.filter.trim();
    try {
      if (this.tab === 'subscriptions') {
        // A filter with wildcards is looked up as written; a topic finds the filters matching it;
        // anything else is a client id.
        const q = f === '' ? {} : /[+#]/.test(f) ? { topic: f } : f.includes('/') ? { match_topic: f } : { clientid: f };
        this.subs = (await api.get<Paged<Subscription>>(`subscriptions${query({ limit: 1000, ...q })}`)).data;
      } else {
        this.topics = (await api.get<Paged<Topic>>(`topics${query({ limit: 1000, topic: f || undefined })}`)).data;
      }
      this.error = '';
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  override render() {
    const subsTab = this.tab === 'subscriptions';
    return html`
      <h1>Topics &amp; subscriptions</h1>
      <div class="tabs">
        <a href=${href('topics', 'topics')} class=${subsTab ? '' : 'on'}>Topics</a>
        <a href=${href('topics', 'subscriptions')} class=${subsTab ? 'on' : ''}>Subscriptions</a>
      </div>
      ${this.error ? html`<div class="error">${this.error}</div>` : ''}
      <div class="card">
        <div class="row" style="margin-bottom:12px">
          <input
            id="filter"
            type="search"
            style="min-width:320px"
            placeholder=${subsTab ? 'Client ID, topic, or topic filter' : 'Topic or topic filter'}
            .value=${this.filter}
            @input=${(e: Event) => {
              this.filter = (e.target as HTMLInputElement).value;
              void this.poll.run();
            }}
          />
          <span class="spacer"></span>
          <span class="muted">${subsTab ? plural(this.subs.length, 'subscription') : plural(this.topics.length, 'topic')}</span>
        </div>
        ${subsTab ? this.renderSubs() : this.renderTopics()}
      </div>
    `;
  }

  private renderTopics() {
    return html`<table id="topics">
        <thead><tr><th>Topic filter</th><th>Node</th></tr></thead>
        <tbody>${this.topics.map((t) => html`<tr><td class="mono">${t.topic}</td><td>${t.node}</td></tr>`)}</tbody>
      </table>
      ${this.topics.length === 0 ? html`<div class="empty">No topics.</div>` : ''}`;
  }

  private renderSubs() {
    return html`<table id="subscriptions">
        <thead><tr><th>Client ID</th><th>Topic filter</th><th>QoS</th><th>Options</th></tr></thead>
        <tbody>
          ${this.subs.map(
            (s) => html`<tr>
              <td><a class="mono" href=${href('clients', s.clientid)}>${s.clientid}</a></td>
              <td class="mono">${s.topic}</td>
              <td>${s.qos}</td>
              <td class="muted">${[s.nl ? 'no local' : '', s.rap ? 'retain as published' : '', s.rh ? `retain handling ${s.rh}` : ''].filter(Boolean).join(', ') || '–'}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${this.subs.length === 0 ? html`<div class="empty">No subscriptions.</div>` : ''}`;
  }
}

customElements.define('jn-topics-page', TopicsPage);
