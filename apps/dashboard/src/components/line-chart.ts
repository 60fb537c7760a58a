/**
 * `<jn-line-chart>`: a small hand-drawn SVG line chart for live series. Give it `series` (name,
 * colour, points `{t, v}` with t in epoch ms) and a `window` in ms; the x axis ends at the newest
 * point, the y axis starts at 0 with rounded ticks. No dependencies; redrawn on every update.
 */
import { LitElement, css, html, svg } from 'lit';
import { fmtClock, fmtNumber } from '../format.js';

export interface Point {
  t: number;
  v: number;
}

export interface Series {
  name: string;
  color: string;
  points: readonly Point[];
}

const W = 640;
const H = 200;
const PAD = { left: 44, right: 12, top: 12, bottom: 24 };

export class LineChart extends LitElement {
  static override properties = {
    series: { attribute: false },
    window: { type: Number },
    unit: { type: String },
    label: { type: String },
  };

  declare series: Series[];
  declare window: number;
  declare unit: string;
  declare label: string;

  constructor() {
    super();
    this.series = [];
    this.window = 5 * 60_000;
    this.unit = '';
    this.label = '';
  }

  static override styles = css`
    :host {
      display: block;
    }
    svg {
      width: 100%;
      height: auto;
      display: block;
    }
    .legend {
      display: flex;
      gap: 16px;
      font-size: 12px;
      color: #667085;
      margin-bottom: 4px;
      flex-wrap: wrap;
    }
    .legend b {
      color: #1d2330;
      font-weight: 600;
    }
    .swatch {
      display: inline-block;
      width: 10px;
      height: 3px;
      border-radius: 2px;
      vertical-align: middle;
      margin-right: 6px;
    }
    text {
      font: 11px system-ui, sans-serif;
      fill: #8a94a6;
    }
  `;

  override render() {
    const all = this.series.flatMap((s) => s.points);
    const tMax = all.length ? Math.max(...all.map((p) => p.t)) : Date.now();
    const tMin = tMax - this.window;
    const vMax = niceMax(Math.max(0, ...all.filter((p) => p.t >= tMin).map((p) => p.v)));
    const x = (t: number) => PAD.left + ((t - tMin) / this.window) * (W - PAD.left - PAD.right);
    const y = (v: number) => H - PAD.bottom - (v / vMax) * (H - PAD.top - PAD.bottom);
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * vMax);
    const times = [0, 0.5, 1].map((f) => tMin + f * this.window);
    const last = (s: Series) => s.points.at(-1)?.v;
    return html`
      <div class="legend" part="legend">
        ${this.series.map(
          (s) => html`<span><span class="swatch" style="background:${s.color}"></span>${s.name} <b>${last(s) === undefined ? '–' : fmtNumber(last(s)!)}</b>${this.unit ? ` ${this.unit}` : ''}</span>`,
        )}
      </div>
      <svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${this.label || this.series.map((s) => s.name).join(', ')}>
        ${ticks.map(
          (v) => svg`
            <line x1=${PAD.left} x2=${W - PAD.right} y1=${y(v)} y2=${y(v)} stroke="#eef0f3" />
            <text x=${PAD.left - 6} y=${y(v) + 4} text-anchor="end">${fmtNumber(v)}</text>`,
        )}
        ${times.map((t, i) => svg`<text x=${x(t)} y=${H - 6} text-anchor=${i === 0 ? 'start' : i === 2 ? 'end' : 'middle'}>${fmtClock(t)}</text>`)}
        ${this.series.map((s) => {
          const pts = s.points.filter((p) => p.t >= tMin);
          if (pts.length === 0) return svg``;
          const line = pts.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
          const area = `${x(pts[0]!.t).toFixed(1)},${y(0)} ${line} ${x(pts.at(-1)!.t).toFixed(1)},${y(0)}`;
          return svg`
            <polygon points=${area} fill=${s.color} fill-opacity="0.08" />
            <polyline points=${line} fill="none" stroke=${s.color} stroke-width="2" stroke-linejoin="round" stroke-linecap="round" />`;
        })}
      </svg>
    `;
  }
}

/** A round upper bound for the y axis: 1, 2, 2.5 or 5 times a power of ten, at least 1. */
function niceMax(v: number): number {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

customElements.define('jn-line-chart', LineChart);

declare global {
  interface HTMLElementTagNameMap {
    'jn-line-chart': LineChart;
  }
}
