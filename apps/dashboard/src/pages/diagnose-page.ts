/**
 * `<jn-diagnose-page>`: the log level (`PUT /configs/log`), log traces (`/trace`: trace a client
 * id, topic filter or address for a while, read the file, download it, stop, delete) and the
 * running configuration with its secrets redacted (`/configs`).
 */
import { LitElement, html } from 'lit';
import { api, seg } from '../api.js';
import '../components/confirm-button.js';
import { fmtBytes, fmtTime } from '../format.js';
import { Poll } from '../poll.js';
import { shared } from '../styles.js';

interface Trace {
  name: string;
  type: 'clientid' | 'topic' | 'ip_address';
  clientid?: string;
  topic?: string;
  ip_address?: string;
  status: 'waiting' | 'running' | 'stopped';
  start_at: string;
  end_at: string;
  formatter: string;
  payload_encode: string;
  log_size: Record<string, number>;
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const TYPES: readonly [string, string][] = [
  ['clientid', 'Client ID'],
  ['topic', 'Topic filter'],
  ['ip_address', 'IP address'],
];

export class DiagnosePage extends LitElement {
  static override properties = { traces: { state: true }, level: { state: true }, error: { state: true }, notice: { state: true }, viewing: { state: true }, config: { state: true } };
  declare traces: Trace[];
  declare level: string;
  declare error: string;
  declare notice: string;
  declare viewing: { name: string; text: string } | undefined;
  declare config: string;
  private readonly poll: Poll;

  constructor() {
    super();
    this.traces = [];
    this.level = '';
    this.error = '';
    this.notice = '';
    this.viewing = undefined;
    this.config = '';
    this.poll = new Poll(this, () => this.refresh(), 3000);
  }

  static override styles = [shared];

  private async refresh(): Promise<void> {
    try {
      const [traces, log] = await Promise.all([api.get<Trace[]>('trace'), api.get<{ level?: string }>('configs/log').catch(() => ({}) as { level?: string })]);
      this.traces = traces;
      this.level = log.level ?? '';
      if (this.viewing) this.viewing = { name: this.viewing.name, text: await api.text(`trace/${seg(this.viewing.name)}/download`) };
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private async act(what: () => Promise<unknown>, notice: string): Promise<void> {
    try {
      await what();
      this.notice = notice;
      this.error = '';
    } catch (err) {
      this.error = (err as Error).message;
      this.notice = '';
    }
    await this.poll.run();
  }

  private setLevel(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const level = String(new FormData(e.target as HTMLFormElement).get('level'));
    return this.act(() => api.put('configs/log', { level }), `Log level set to ${level}.`);
  }

  private create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const f = new FormData(form);
    const type = String(f.get('type'));
    const minutes = Number(f.get('minutes') || 10);
    const body = {
      name: String(f.get('name')).trim(),
      type,
      [type]: String(f.get('value')).trim(),
      end_at: new Date(Date.now() + minutes * 60_000).toISOString(),
      formatter: String(f.get('formatter')),
      payload_encode: String(f.get('payload_encode')),
    };
    return this.act(async () => {
      await api.post('trace', body);
      form.reset();
    }, `Tracing ${type} ${body[type]} for ${minutes} minutes.`);
  }

  private async view(t: Trace): Promise<void> {
    try {
      this.viewing = { name: t.name, text: await api.text(`trace/${seg(t.name)}/download`) };
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private async download(t: Trace): Promise<void> {
    try {
      const text = await api.text(`trace/${seg(t.name)}/download`);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
      a.download = `trace_${t.name}.log`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private async showConfig(e: Event): Promise<void> {
    if (!(e.target as HTMLDetailsElement).open) return;
    try {
      this.config = JSON.stringify(await api.get('configs'), null, 2);
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  override render() {
    return html`
      <h1>Diagnose</h1>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : ''} ${this.notice ? html`<div class="notice">${this.notice}</div>` : ''}
      <div class="card">
        <h2>Log level</h2>
        <form class="row" id="level-form" @submit=${this.setLevel} style="align-items:flex-end">
          <label>Level <select name="level">${LEVELS.map((l) => html`<option value=${l} ?selected=${l === this.level}>${l}</option>`)}</select></label>
          <button class="primary" type="submit">Apply</button>
          <span class="muted">Now <b id="current-level">${this.level || 'unknown'}</b>; for every component at once, until the broker restarts.</span>
        </form>
      </div>
      <div class="card">
        <h2>Log trace</h2>
        <form class="row" id="trace-form" @submit=${this.create} style="align-items:flex-end">
          <label>Name <input name="name" required pattern="[A-Za-z0-9_\\-]{1,256}" placeholder="letters, digits, _ -" /></label>
          <label>Type <select name="type">${TYPES.map(([k, l]) => html`<option value=${k}>${l}</option>`)}</select></label>
          <label>Value <input name="value" required placeholder="client id, topic filter or address" /></label>
          <label>Minutes <input name="minutes" type="number" min="1" max="1440" value="10" style="width:80px" /></label>
          <label>Format <select name="formatter"><option value="text">text</option><option value="json">JSON lines</option></select></label>
          <label>Payload <select name="payload_encode"><option value="text">text</option><option value="hex">hex</option><option value="hidden">hidden</option></select></label>
          <button class="primary" type="submit">Start trace</button>
        </form>
        <div class="muted" style="margin-top:8px">Everything the broker does for the matching clients and messages is written to the trace's own file, whatever the log level.</div>
        <table id="traces" style="margin-top:12px">
          <thead><tr><th>Name</th><th>Traces</th><th>Status</th><th>From</th><th>Until</th><th>Size</th><th></th></tr></thead>
          <tbody>
            ${this.traces.map(
              (t) => html`<tr data-trace=${t.name}>
                <td class="mono">${t.name}</td>
                <td>${TYPES.find(([k]) => k === t.type)?.[1] ?? t.type} <span class="mono">${t[t.type] ?? ''}</span></td>
                <td><span class="badge ${t.status === 'running' ? 'ok' : t.status === 'waiting' ? 'info' : ''}">${t.status}</span></td>
                <td>${fmtTime(t.start_at)}</td>
                <td>${fmtTime(t.end_at)}</td>
                <td>${fmtBytes(Object.values(t.log_size).reduce((a, b) => a + b, 0))}</td>
                <td class="actions">
                  <button class="small" data-view @click=${() => this.view(t)}>View</button>
                  <button class="small" @click=${() => this.download(t)}>Download</button>
                  ${t.status !== 'stopped' ? html`<button class="small" data-stop @click=${() => this.act(() => api.put(`trace/${seg(t.name)}/stop`), `Stopped ${t.name}.`)}>Stop</button>` : ''}
                  <jn-confirm label="Delete" @confirm=${() => this.act(async () => { await api.del(`trace/${seg(t.name)}`); if (this.viewing?.name === t.name) this.viewing = undefined; }, `Deleted ${t.name}.`)}></jn-confirm>
                </td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${this.traces.length === 0 ? html`<div class="empty">No trace.</div>` : ''}
        ${this.viewing
          ? html`<div class="row" style="margin-top:12px"><h2 style="margin:0">${this.viewing.name}</h2><span class="spacer"></span><button class="small" @click=${() => (this.viewing = undefined)}>Close</button></div>
              <pre id="trace-log" class="mono" style="max-height:360px;overflow:auto;white-space:pre-wrap">${this.viewing.text || '(nothing traced yet)'}</pre>`
          : ''}
      </div>
      <div class="card">
        <details @toggle=${this.showConfig}>
          <summary><b>Running configuration</b> <span class="muted">(passwords, secrets and keys shown as ******)</span></summary>
          <pre id="config" class="mono" style="max-height:480px;overflow:auto">${this.config}</pre>
        </details>
      </div>
    `;
  }
}

customElements.define('jn-diagnose-page', DiagnosePage);
