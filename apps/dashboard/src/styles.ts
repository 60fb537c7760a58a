/** The shared look: a readable light theme, in one sheet every element adopts. */
import { css } from 'lit';

export const shared = css`
  :host {
    --bg: #f5f6f8;
    --card: #ffffff;
    --text: #1d2330;
    --muted: #667085;
    --line: #e4e7ec;
    --accent: #2563eb;
    --accent-soft: #e8efff;
    --ok: #15803d;
    --ok-soft: #e7f6ec;
    --warn: #b45309;
    --warn-soft: #fdf3e3;
    --bad: #c81e1e;
    --bad-soft: #fdecec;
    --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
    display: block;
    color: var(--text);
    font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  }
  * {
    box-sizing: border-box;
  }
  h1 {
    font-size: 20px;
    font-weight: 600;
    margin: 0 0 16px;
  }
  h2 {
    font-size: 15px;
    font-weight: 600;
    margin: 0 0 12px;
  }
  a {
    color: var(--accent);
    text-decoration: none;
  }
  a:hover {
    text-decoration: underline;
  }
  .card {
    background: var(--card);
    border: 1px solid var(--line);
    border-radius: 8px;
    padding: 16px;
    margin-bottom: 16px;
  }
  .row {
    display: flex;
    gap: 8px;
    align-items: center;
    flex-wrap: wrap;
  }
  .spacer {
    flex: 1;
  }
  .muted {
    color: var(--muted);
  }
  .mono {
    font-family: var(--mono);
    font-size: 13px;
  }
  table {
    width: 100%;
    border-collapse: collapse;
  }
  th,
  td {
    text-align: left;
    padding: 8px 10px;
    border-bottom: 1px solid var(--line);
    vertical-align: top;
  }
  th {
    font-weight: 600;
    color: var(--muted);
    font-size: 12px;
    text-transform: uppercase;
    letter-spacing: 0.03em;
  }
  tbody tr:hover {
    background: #fafbfc;
  }
  td.actions {
    text-align: right;
    white-space: nowrap;
  }
  .empty {
    padding: 24px;
    text-align: center;
    color: var(--muted);
  }
  button {
    font: inherit;
    border: 1px solid var(--line);
    background: var(--card);
    color: var(--text);
    padding: 6px 12px;
    border-radius: 6px;
    cursor: pointer;
  }
  button:hover {
    border-color: #c6cbd3;
    background: #f9fafb;
  }
  button.primary {
    background: var(--accent);
    border-color: var(--accent);
    color: #fff;
  }
  button.primary:hover {
    background: #1d4fd8;
  }
  button.danger {
    color: var(--bad);
    border-color: #f3c4c4;
  }
  button.danger:hover {
    background: var(--bad-soft);
  }
  button.small {
    padding: 3px 8px;
    font-size: 12px;
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  input,
  select,
  textarea {
    font: inherit;
    border: 1px solid var(--line);
    border-radius: 6px;
    padding: 6px 8px;
    background: #fff;
    color: var(--text);
  }
  input:focus,
  select:focus,
  textarea:focus {
    outline: 2px solid var(--accent-soft);
    border-color: var(--accent);
  }
  input,
  select {
    font-size: 14px;
  }
  h1.mono,
  h2.mono {
    font-size: inherit;
    font-weight: 600;
  }
  textarea {
    font-family: var(--mono);
    font-size: 13px;
    width: 100%;
    resize: vertical;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: 4px;
    font-size: 12px;
    color: var(--muted);
  }
  label.check {
    flex-direction: row;
    align-items: center;
    color: var(--text);
    font-size: 14px;
  }
  .badge {
    display: inline-block;
    padding: 1px 8px;
    border-radius: 999px;
    font-size: 12px;
    font-weight: 500;
    background: #eef0f3;
    color: var(--muted);
    white-space: nowrap;
  }
  .badge.ok {
    background: var(--ok-soft);
    color: var(--ok);
  }
  .badge.warn {
    background: var(--warn-soft);
    color: var(--warn);
  }
  .badge.bad {
    background: var(--bad-soft);
    color: var(--bad);
  }
  .badge.info {
    background: var(--accent-soft);
    color: var(--accent);
  }
  .error {
    background: var(--bad-soft);
    color: var(--bad);
    border-radius: 6px;
    padding: 8px 12px;
    margin-bottom: 12px;
  }
  .notice {
    background: var(--ok-soft);
    color: var(--ok);
    border-radius: 6px;
    padding: 8px 12px;
    margin-bottom: 12px;
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(160px, 1fr));
    gap: 12px;
  }
  dl.facts {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 6px 16px;
    margin: 0;
  }
  dl.facts dt {
    color: var(--muted);
  }
  dl.facts dd {
    margin: 0;
    word-break: break-all;
  }
  .tabs {
    display: flex;
    gap: 4px;
    border-bottom: 1px solid var(--line);
    margin-bottom: 16px;
  }
  .tabs a {
    padding: 8px 14px;
    color: var(--muted);
    border-bottom: 2px solid transparent;
  }
  .tabs a.on {
    color: var(--accent);
    border-bottom-color: var(--accent);
    text-decoration: none;
  }
  pre {
    font-family: var(--mono);
    font-size: 13px;
    background: #f8f9fb;
    border: 1px solid var(--line);
    border-radius: 6px;
    padding: 10px;
    margin: 0;
    overflow: auto;
    white-space: pre-wrap;
    word-break: break-all;
  }
`;
