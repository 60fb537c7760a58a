/**
 * `<jn-rule-editor>`: create or edit a rule (id, description, SQL, actions, enabled) and try its
 * SQL on a sample message through `POST /rule_test` before saving.
 */
import { LitElement, css, html } from 'lit';
import { api, seg } from '../api.js';
import { go, href } from '../router.js';
import { shared } from '../styles.js';
import type { Rule } from './rules-page.js';

interface Republish {
  kind: 'republish';
  topic: string;
  qos: string;
  retain: boolean;
  payload: string;
}
type ActionDraft = Republish | { kind: 'console' } | { kind: 'sink'; name: string };

const SAMPLE_SQL = 'SELECT\n  payload.temp AS temp,\n  clientid\nFROM\n  "sensors/#"\nWHERE\n  payload.temp > 30';

export class RuleEditor extends LitElement {
  static override properties = {
    ruleId: { type: String },
    draftId: { state: true },
    sql: { state: true },
    description: { state: true },
    enable: { state: true },
    actions: { state: true },
    ctx: { state: true },
    result: { state: true },
    error: { state: true },
    saving: { state: true },
  };
  declare ruleId: string;
  declare draftId: string;
  declare sql: string;
  declare description: string;
  declare enable: boolean;
  declare actions: ActionDraft[];
  declare ctx: { clientid: string; username: string; topic: string; qos: string; payload: string };
  declare result: { kind: 'ok' | 'nomatch' | 'error'; text: string } | undefined;
  declare error: string;
  declare saving: boolean;

  constructor() {
    super();
    this.ruleId = '';
    this.draftId = '';
    this.sql = SAMPLE_SQL;
    this.description = '';
    this.enable = true;
    this.actions = [{ kind: 'republish', topic: 'alerts/${clientid}', qos: '0', retain: false, payload: '' }];
    this.ctx = { clientid: 'sensor-1', username: 'u1', topic: 'sensors/room1', qos: '1', payload: '{"temp": 35}' };
    this.result = undefined;
    this.error = '';
    this.saving = false;
  }

  static override styles = [
    shared,
    css`
      .cols {
        display: grid;
        grid-template-columns: minmax(0, 3fr) minmax(0, 2fr);
        gap: 16px;
        align-items: start;
      }
      .fields {
        display: grid;
        grid-template-columns: 1fr 1fr;
        gap: 12px;
        margin-bottom: 12px;
      }
      .action {
        border: 1px solid var(--line);
        border-radius: 6px;
        padding: 10px;
        margin-bottom: 8px;
        display: grid;
        grid-template-columns: 120px 1fr 70px 80px auto;
        gap: 8px;
        align-items: end;
      }
      .action.simple {
        grid-template-columns: 120px 1fr auto;
      }
      #sql {
        min-height: 170px;
      }
      .result.ok pre {
        border-color: #b7e2c4;
        background: var(--ok-soft);
      }
      .result.nomatch pre {
        border-color: #f1d5a8;
        background: var(--warn-soft);
      }
      .result.error pre {
        border-color: #f3c4c4;
        background: var(--bad-soft);
      }
    `,
  ];

  override async connectedCallback(): Promise<void> {
    super.connectedCallback();
    if (!this.ruleId) return;
    try {
      const r = await api.get<Rule>(`rules/${seg(this.ruleId)}`);
      this.sql = r.sql;
      this.description = r.description;
      this.enable = r.enable;
      this.actions = r.actions.map(fromApi);
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private async test(): Promise<void> {
    const c = this.ctx;
    try {
      const out = await api.post<unknown>('rule_test', { sql: this.sql, context: { clientid: c.clientid, username: c.username, topic: c.topic, qos: Number(c.qos) || 0, payload: c.payload } });
      this.result = { kind: 'ok', text: JSON.stringify(out, null, 2) };
    } catch (err) {
      const e = err as { status?: number; message: string };
      this.result = e.status === 412 ? { kind: 'nomatch', text: 'No output: the sample does not pass the WHERE clause.' } : { kind: 'error', text: e.message };
    }
  }

  private async save(): Promise<void> {
    this.saving = true;
    this.error = '';
    const body = { sql: this.sql, description: this.description, enable: this.enable, actions: this.actions.map(toApi) };
    try {
      if (this.ruleId) await api.put(`rules/${seg(this.ruleId)}`, body);
      else await api.post('rules', { ...(this.draftId.trim() ? { id: this.draftId.trim() } : {}), ...body });
      go('rules');
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.saving = false;
    }
  }

  private setAction(i: number, patch: Partial<Republish> & { name?: string }): void {
    this.actions = this.actions.map((a, j) => (j === i ? ({ ...a, ...patch } as ActionDraft) : a));
  }

  private changeKind(i: number, kind: ActionDraft['kind']): void {
    const next: ActionDraft = kind === 'republish' ? { kind, topic: '', qos: '0', retain: false, payload: '' } : kind === 'sink' ? { kind, name: '' } : { kind };
    this.actions = this.actions.map((a, j) => (j === i ? next : a));
  }

  override render() {
    const val = (e: Event) => (e.target as HTMLInputElement).value;
    return html`
      <div class="row" style="margin-bottom:16px"><a href=${href('rules')}>← Rules</a></div>
      <h1>${this.ruleId ? html`Rule <span class="mono">${this.ruleId}</span>` : 'New rule'}</h1>
      ${this.error ? html`<div class="error" role="alert">${this.error}</div>` : ''}
      <div class="cols">
        <div>
          <div class="card">
            <div class="fields">
              <label>Rule ID <input id="rule-id" .value=${this.ruleId || this.draftId} ?disabled=${!!this.ruleId} placeholder="generated when empty" @input=${(e: Event) => (this.draftId = val(e))} /></label>
              <label>Description <input id="description" .value=${this.description} @input=${(e: Event) => (this.description = val(e))} /></label>
            </div>
            <label>SQL <textarea id="sql" spellcheck="false" .value=${this.sql} @input=${(e: Event) => (this.sql = val(e))}></textarea></label>
            <label class="check" style="margin-top:10px"><input type="checkbox" id="enable" .checked=${this.enable} @change=${(e: Event) => (this.enable = (e.target as HTMLInputElement).checked)} /> Enabled</label>
          </div>
          <div class="card">
            <div class="row" style="margin-bottom:10px">
              <h2 style="margin:0">Actions</h2>
              <span class="spacer"></span>
              <button class="small" id="add-action" @click=${() => (this.actions = [...this.actions, { kind: 'republish', topic: '', qos: '0', retain: false, payload: '' }])}>Add action</button>
            </div>
            ${this.actions.map((a, i) => this.renderAction(a, i))}
            ${this.actions.length === 0 ? html`<div class="muted">No actions: the rule only counts what it matches.</div>` : ''}
          </div>
          <div class="row">
            <button class="primary" id="save" ?disabled=${this.saving} @click=${this.save}>${this.ruleId ? 'Save' : 'Create'}</button>
            <button @click=${() => go('rules')}>Cancel</button>
          </div>
        </div>
        <div class="card">
          <h2>Test SQL</h2>
          <div class="muted" style="margin-bottom:10px">Runs the SQL on a sample message; no action runs.</div>
          <div class="fields">
            <label>Client ID <input id="ctx-clientid" .value=${this.ctx.clientid} @input=${(e: Event) => (this.ctx = { ...this.ctx, clientid: val(e) })} /></label>
            <label>Username <input id="ctx-username" .value=${this.ctx.username} @input=${(e: Event) => (this.ctx = { ...this.ctx, username: val(e) })} /></label>
            <label>Topic <input id="ctx-topic" .value=${this.ctx.topic} @input=${(e: Event) => (this.ctx = { ...this.ctx, topic: val(e) })} /></label>
            <label>QoS <select id="ctx-qos" .value=${this.ctx.qos} @change=${(e: Event) => (this.ctx = { ...this.ctx, qos: val(e) })}><option>0</option><option>1</option><option>2</option></select></label>
          </div>
          <label>Payload <textarea id="ctx-payload" rows="4" .value=${this.ctx.payload} @input=${(e: Event) => (this.ctx = { ...this.ctx, payload: val(e) })}></textarea></label>
          <div class="row" style="margin:10px 0"><button id="run-test" @click=${this.test}>Run test</button></div>
          ${this.result
            ? html`<div class="result ${this.result.kind}" id="test-result">
                <div class="muted" style="margin-bottom:4px">${this.result.kind === 'ok' ? 'Output' : this.result.kind === 'nomatch' ? 'No match' : 'Error'}</div>
                <pre>${this.result.text}</pre>
              </div>`
            : ''}
        </div>
      </div>
    `;
  }

  private renderAction(a: ActionDraft, i: number) {
    const val = (e: Event) => (e.target as HTMLInputElement).value;
    const kind = html`<label>Type
      <select class="action-kind" .value=${a.kind} @change=${(e: Event) => this.changeKind(i, val(e) as ActionDraft['kind'])}>
        <option value="republish">Republish</option>
        <option value="console">Console</option>
        <option value="sink">Sink</option>
      </select>
    </label>`;
    const remove = html`<button class="small danger" @click=${() => (this.actions = this.actions.filter((_, j) => j !== i))}>Remove</button>`;
    if (a.kind === 'console') return html`<div class="action simple">${kind}<span class="muted">Writes each output to the broker log.</span>${remove}</div>`;
    if (a.kind === 'sink') return html`<div class="action simple">${kind}<label>Sink id <input .value=${a.name} placeholder="http:my_webhook" @input=${(e: Event) => this.setAction(i, { name: val(e) })} /></label>${remove}</div>`;
    return html`<div class="action" data-action="republish">
      ${kind}
      <label>Topic <input class="republish-topic" .value=${a.topic} placeholder="alerts/\${clientid}" @input=${(e: Event) => this.setAction(i, { topic: val(e) })} /></label>
      <label>QoS <select .value=${a.qos} @change=${(e: Event) => this.setAction(i, { qos: val(e) })}>${['0', '1', '2', ...(['0', '1', '2'].includes(a.qos) ? [] : [a.qos])].map((q) => html`<option .value=${q} ?selected=${q === a.qos}>${q}</option>`)}</select></label>
      <label class="check"><input type="checkbox" .checked=${a.retain} @change=${(e: Event) => this.setAction(i, { retain: (e.target as HTMLInputElement).checked })} /> Retain</label>
      ${remove}
      <label style="grid-column: 1 / -1">Payload template (empty: the whole output as JSON) <input class="republish-payload" .value=${a.payload} placeholder="\${payload}" @input=${(e: Event) => this.setAction(i, { payload: val(e) })} /></label>
    </div>`;
  }
}

function fromApi(a: unknown): ActionDraft {
  if (typeof a === 'string') return { kind: 'sink', name: a };
  const o = a as { function?: string; name?: string; args?: { topic?: string; qos?: number | string; retain?: boolean | string; payload?: string } };
  if (o.function === 'console') return { kind: 'console' };
  if (o.function === 'sink') return { kind: 'sink', name: o.name ?? '' };
  const args = o.args ?? {};
  return { kind: 'republish', topic: args.topic ?? '', qos: String(args.qos ?? 0), retain: args.retain === true, payload: args.payload ?? '' };
}

function toApi(a: ActionDraft): unknown {
  if (a.kind === 'console') return { function: 'console' };
  if (a.kind === 'sink') return { function: 'sink', name: a.name };
  return { function: 'republish', args: { topic: a.topic, qos: /^\d$/.test(a.qos) ? Number(a.qos) : a.qos, retain: a.retain, payload: a.payload } };
}

customElements.define('jn-rule-editor', RuleEditor);
