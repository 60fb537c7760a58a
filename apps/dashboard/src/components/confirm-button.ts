/**
 * `<jn-confirm>`: a danger button that asks once inline ("Kick? Yes / No") before it fires
 * `confirm`. No modal dialogs: nothing blocks the page.
 */
import { LitElement, css, html } from 'lit';
import { shared } from '../styles.js';

export class ConfirmButton extends LitElement {
  static override properties = { label: { type: String }, question: { type: String }, asking: { state: true } };
  declare label: string;
  declare question: string;
  declare asking: boolean;

  constructor() {
    super();
    this.label = 'Delete';
    this.question = '';
    this.asking = false;
  }

  static override styles = [shared, css`
    :host {
      display: inline-block;
    }
  `];

  override render() {
    if (!this.asking) return html`<button class="danger small" part="button" @click=${() => (this.asking = true)}>${this.label}</button>`;
    return html`<span class="row" style="display:inline-flex;gap:4px">
      <span class="muted">${this.question || `${this.label}?`}</span>
      <button class="danger small" data-yes @click=${this.yes}>Yes</button>
      <button class="small" @click=${() => (this.asking = false)}>No</button>
    </span>`;
  }

  private yes(): void {
    this.asking = false;
    this.dispatchEvent(new Event('confirm', { bubbles: true, composed: true }));
  }
}

customElements.define('jn-confirm', ConfirmButton);
