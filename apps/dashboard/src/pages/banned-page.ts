/** `<jn-banned-page>`: the banned list (`/banned`): add a ban (client id, user name, address, CIDR, patterns), lift one. */
import { LitElement, html } from 'lit';
import { api, seg, type Paged } from '../api.js';
import '../components/confirm-button.js';
import { fmtTime } from '../format.js';
import { ListState } from '../list-state.js';
import { shared } from '../styles.js';

interface Ban {
  as: string;
  who: string;
  by: string;
  reason: string;
  at: string;
  until: string;
}

const KINDS: readonly [string, string][] = [
  ['clientid', 'Client ID'],
  ['username', 'Username'],
  ['peerhost', 'IP address'],
  ['peerhost_net', 'IP network (CIDR)'],
  ['clientid_re', 'Client ID pattern (regex)'],
  ['username_re', 'Username pattern (regex)'],
];

export class BannedPage extends LitElement {
  private readonly list = new ListState<Ban>(this, { load: async () => (await api.get<Paged<Ban>>('banned?limit=1000')).data, ms: 10_000 });

  static override styles = [shared];

  private async add(f: FormData): Promise<string> {
    const until = String(f.get('until') ?? '');
    const body = { as: String(f.get('as')), who: String(f.get('who')).trim(), reason: String(f.get('reason') ?? ''), ...(until ? { until: new Date(until).toISOString() } : {}) };
    await api.post('banned', body);
    return `Banned ${body.who}.`;
  }

  private drop(b: Ban): Promise<void> {
    return this.list.run(async () => {
      await api.del(`banned/${b.as}/${seg(b.who)}`);
      return `Lifted the ban on ${b.who}.`;
    });
  }

  override render() {
    const label = (as: string) => KINDS.find(([k]) => k === as)?.[1] ?? as;
    return html`
      <h1>Banned clients</h1>
      ${this.list.messages()}
      <div class="card">
        <h2>Add a ban</h2>
        <form class="row" id="ban-form" @submit=${(e: SubmitEvent) => this.list.submit(e, (f) => this.add(f))} style="align-items:flex-end">
          <label>Type <select name="as">${KINDS.map(([k, l]) => html`<option value=${k}>${l}</option>`)}</select></label>
          <label>Value <input name="who" required placeholder="client id, name, address…" /></label>
          <label>Reason <input name="reason" placeholder="optional" /></label>
          <label>Until <input name="until" type="datetime-local" /></label>
          <button class="primary" type="submit">Ban</button>
        </form>
        <div class="muted" style="margin-top:8px">Connected clients the ban covers are disconnected at once. Without an end time, the ban lasts until lifted.</div>
      </div>
      <div class="card">
        <table id="banned">
          <thead><tr><th>Type</th><th>Value</th><th>Reason</th><th>By</th><th>Since</th><th>Until</th><th></th></tr></thead>
          <tbody>
            ${this.list.rows.map(
              (b) => html`<tr data-ban=${b.who}>
                <td>${label(b.as)}</td>
                <td class="mono">${b.who}</td>
                <td>${b.reason || html`<span class="muted">–</span>`}</td>
                <td>${b.by}</td>
                <td>${fmtTime(b.at)}</td>
                <td>${fmtTime(b.until)}</td>
                <td class="actions"><jn-confirm label="Lift" @confirm=${() => this.drop(b)}></jn-confirm></td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${this.list.rows.length === 0 ? html`<div class="empty">Nobody is banned.</div>` : ''}
      </div>
    `;
  }
}

customElements.define('jn-banned-page', BannedPage);
