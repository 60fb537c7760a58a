/**
 * `<jn-rules-page>`: the rules with their counters (`/rules`, `/rules/{id}/metrics`, refreshed
 * every 3 s), enable/disable and delete; `#/rules/new` and `#/rules/{id}` open the editor.
 */
import { LitElement, html } from 'lit';
import { api, seg, type Paged } from '../api.js';
import '../components/confirm-button.js';
import { Poll } from '../poll.js';
import { go, href } from '../router.js';
import { shared } from '../styles.js';
import './rule-editor.js';

export interface Rule {
  id: string;
  name: string;
  sql: string;
  actions: unknown[];
  enable: boolean;
  description: string;
  from: string[];
  created_at: string;
}
type Metrics = Record<string, number>;

export class RulesPage extends LitElement {
  static override properties = { ruleId: { type: String }, rules: { state: true }, metrics: { state: true }, error: { state: true } };
  declare ruleId: string;
  declare rules: Rule[];
  declare metrics: Record<string, Metrics>;
  declare error: string;
  private readonly poll: Poll;

  constructor() {
    super();
    this.ruleId = '';
    this.rules = [];
    this.metrics = {};
    this.error = '';
    this.poll = new Poll(this, () => this.refresh(), 3000);
  }

  static override styles = [shared];

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('ruleId') && changed.get('ruleId') !== undefined && !this.ruleId) void this.poll.run();
  }

  private async refresh(): Promise<void> {
    if (this.ruleId) return;
    try {
      this.rules = (await api.get<Paged<Rule>>('rules?limit=1000')).data;
      const ms = await Promise.all(this.rules.map((r) => api.get<{ metrics: Metrics }>(`rules/${seg(r.id)}/metrics`).catch(() => ({ metrics: {} }))));
      this.metrics = Object.fromEntries(this.rules.map((r, i) => [r.id, ms[i]!.metrics]));
      this.error = '';
    } catch (err) {
      this.error = (err as Error).message;
    }
  }

  private async toggle(r: Rule): Promise<void> {
    try {
      await api.put(`rules/${seg(r.id)}`, { enable: !r.enable });
    } catch (err) {
      this.error = (err as Error).message;
    }
    await this.poll.run();
  }

  private async drop(r: Rule): Promise<void> {
    try {
      await api.del(`rules/${seg(r.id)}`);
    } catch (err) {
      this.error = (err as Error).message;
    }
    await this.poll.run();
  }

  override render() {
    if (this.ruleId) return html`<jn-rule-editor .ruleId=${this.ruleId === 'new' ? '' : this.ruleId}></jn-rule-editor>`;
    return html`
      <div class="row" style="margin-bottom:16px">
        <h1 style="margin:0">Rules</h1>
        <span class="spacer"></span>
        <button class="primary" id="new-rule" @click=${() => go('rules', 'new')}>New rule</button>
      </div>
      ${this.error ? html`<div class="error">${this.error}</div>` : ''}
      <div class="card">
        <table id="rules">
          <thead><tr><th>ID</th><th>Source</th><th>Actions</th><th>Status</th><th>Matched</th><th>Passed</th><th>Failed</th><th>Actions OK / failed</th><th></th></tr></thead>
          <tbody>
            ${this.rules.map((r) => {
              const m = this.metrics[r.id] ?? {};
              return html`<tr data-rule=${r.id}>
                <td><a class="mono" href=${href('rules', r.id)}>${r.id}</a>${r.description ? html`<div class="muted">${r.description}</div>` : ''}</td>
                <td class="mono">${r.from.join(', ')}</td>
                <td>${r.actions.map((a) => html`<span class="badge info">${actionLabel(a)}</span> `)}</td>
                <td>${r.enable ? html`<span class="badge ok">enabled</span>` : html`<span class="badge">disabled</span>`}</td>
                <td data-metric="matched">${m.matched ?? 0}</td>
                <td data-metric="passed">${m.passed ?? 0}</td>
                <td>${m.failed ?? 0}</td>
                <td>${m['actions.success'] ?? 0} / ${m['actions.failed'] ?? 0}</td>
                <td class="actions">
                  <button class="small" data-toggle @click=${() => this.toggle(r)}>${r.enable ? 'Disable' : 'Enable'}</button>
                  <jn-confirm @confirm=${() => this.drop(r)}></jn-confirm>
                </td>
              </tr>`;
            })}
          </tbody>
        </table>
        ${this.rules.length === 0 ? html`<div class="empty">No rules yet. Rules run SQL over messages and events, and republish or forward what they select.</div>` : ''}
      </div>
    `;
  }
}

export function actionLabel(a: unknown): string {
  if (typeof a === 'string') return a;
  const o = a as { function?: string; name?: string; args?: { topic?: string } };
  if (o.function === 'republish') return `republish → ${o.args?.topic ?? ''}`;
  if (o.function === 'sink') return o.name ?? 'sink';
  return o.function ?? 'action';
}

customElements.define('jn-rules-page', RulesPage);
