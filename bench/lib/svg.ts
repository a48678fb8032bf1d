/**
 * Minimal hand-written SVG charts for the benchmark report (no dependency): a horizontal ratio bar
 * chart on a log scale centred on 1x, and line charts with log or linear axes. Output is plain SVG
 * with inline styles and a white background, readable on GitHub in light and dark themes.
 */

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';
export const PALETTE = [
  '#2563eb',
  '#dc2626',
  '#059669',
  '#d97706',
  '#7c3aed',
  '#0891b2',
  '#db2777',
  '#4b5563',
];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(x: number): string {
  return (Math.round(x * 10) / 10).toString();
}

export function text(
  x: number,
  y: number,
  content: string,
  attrs: { size?: number; anchor?: 'start' | 'middle' | 'end'; weight?: string; fill?: string } = {},
): string {
  return `<text x="${num(x)}" y="${num(y)}" font-size="${attrs.size ?? 12}" text-anchor="${attrs.anchor ?? 'start'}"${attrs.weight ? ` font-weight="${attrs.weight}"` : ''} fill="${attrs.fill ?? '#111827'}">${escapeXml(content)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, extra = ''): string {
  return `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" stroke="${stroke}"${extra ? ` ${extra}` : ''}/>`;
}

export function document(width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export interface Scale {
  (value: number): number;
  ticks: { value: number; label: string }[];
}

/** Log10 scale from [min, max] to [a, b], with ticks at 1-2-5 steps (or decades when wide). */
export function logScale(
  min: number,
  max: number,
  a: number,
  b: number,
  format: (v: number) => string,
): Scale {
  const lo = Math.log10(min);
  const hi = Math.log10(max);
  const scale = ((v: number) => a + ((Math.log10(v) - lo) / (hi - lo || 1)) * (b - a)) as Scale;
  const steps = hi - lo > 3 ? [1] : [1, 2, 5];
  scale.ticks = [];
  for (let e = Math.floor(lo); e <= Math.ceil(hi); e++) {
    for (const s of steps) {
      const v = s * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) scale.ticks.push({ value: v, label: format(v) });
    }
  }
  return scale;
}

/** Linear scale from [min, max] to [a, b], with about `count` round ticks. */
export function linearScale(
  min: number,
  max: number,
  a: number,
  b: number,
  format: (v: number) => string,
  count = 5,
): Scale {
  const scale = ((v: number) => a + ((v - min) / (max - min || 1)) * (b - a)) as Scale;
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  scale.ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    scale.ticks.push({ value: v, label: format(v) });
  }
  return scale;
}

export interface RatioBar {
  label: string;
  ratio: number;
  color?: string;
}

export interface RatioGroup {
  title: string;
  bars: RatioBar[];
}

/**
 * Horizontal bars on a log scale from the 1x line: right of it means the ratio is above 1. One
 * section per group; `caption` (lines separated by \n) explains what a ratio means.
 */
export function ratioBarChart(options: { title: string; caption: string; groups: RatioGroup[] }): string {
  const width = 900;
  const labelWidth = 300;
  const barHeight = 18;
  const gap = 5;
  const left = labelWidth + 20;
  const right = width - 70;
  const ratios = options.groups.flatMap((g) => g.bars.map((b) => b.ratio)).filter((r) => r > 0);
  // Room left of the shortest bar for its value label.
  const min = Math.min(0.5, ...ratios.map((r) => r / 4));
  const max = Math.max(2, ...ratios.map((r) => r * 1.3));
  const scale = logScale(min, max, left, right, formatTimes);
  const captionLines = options.caption.split('\n');
  const body: string[] = [
    text(20, 28, options.title, { size: 16, weight: '600' }),
    ...captionLines.map((c, i) => text(20, 48 + i * 16, c, { size: 12, fill: '#4b5563' })),
  ];
  let y = 54 + captionLines.length * 16;
  const top = y;
  const rows: string[] = [];
  for (const group of options.groups) {
    rows.push(text(20, y + 14, group.title, { size: 13, weight: '600' }));
    y += barHeight + gap + 4;
    for (const bar of group.bars) {
      const x1 = scale(1);
      const x2 = scale(Math.max(bar.ratio, min));
      const color = bar.color ?? PALETTE[0]!;
      rows.push(text(labelWidth + 8, y + 13, bar.label, { size: 12, anchor: 'end' }));
      rows.push(
        `<rect x="${num(Math.min(x1, x2))}" y="${num(y)}" width="${num(Math.max(1, Math.abs(x2 - x1)))}" height="${barHeight}" fill="${color}" rx="2"/>`,
      );
      rows.push(
        text(x2 >= x1 ? x2 + 5 : x2 - 5, y + 13, formatTimes(bar.ratio), {
          size: 11,
          anchor: x2 >= x1 ? 'start' : 'end',
          fill: '#374151',
        }),
      );
      y += barHeight + gap;
    }
    y += 8;
  }
  const bottom = y;
  const grid: string[] = [];
  for (const tick of scale.ticks) {
    const x = scale(tick.value);
    grid.push(
      line(
        x,
        top,
        x,
        bottom,
        tick.value === 1 ? '#111827' : '#e5e7eb',
        tick.value === 1 ? 'stroke-width="1.5"' : '',
      ),
    );
    grid.push(text(x, bottom + 16, tick.label, { size: 11, anchor: 'middle', fill: '#4b5563' }));
  }
  return document(width, bottom + 30, [...body, ...grid, ...rows]);
}

export interface Series {
  label: string;
  points: { x: number; y: number }[];
  color: string;
  dash?: string;
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  x: { log: boolean; format: (v: number) => string; min?: number; max?: number };
  y: { log: boolean; format: (v: number) => string; min?: number; max?: number };
  /** Horizontal reference lines (e.g. 1x). */
  references?: { y: number; label: string }[];
  /** Lines of text under the legend. */
  footnotes?: string[];
}

/** Line charts side by side, each with its own axes and legend. */
export function lineCharts(title: string, panels: Panel[], panelWidth = 420): string {
  const plotTop = 70;
  const plotHeight = 230;
  const legendLines = Math.max(...panels.map((p) => p.series.length + (p.footnotes?.length ?? 0)));
  const height = plotTop + plotHeight + 52 + legendLines * 15 + 10;
  const body: string[] = [text(20, 28, title, { size: 16, weight: '600' })];
  panels.forEach((panel, index) => {
    const ox = index * panelWidth;
    const left = ox + 70;
    const right = ox + panelWidth - 20;
    const bottom = plotTop + plotHeight;
    const xs = panel.series.flatMap((s) => s.points.map((p) => p.x));
    const ys = panel.series
      .flatMap((s) => s.points.map((p) => p.y))
      .concat((panel.references ?? []).map((r) => r.y));
    body.push(text(ox + 20, 52, panel.title, { size: 13, weight: '600' }));
    if (xs.length === 0) {
      body.push(
        text(ox + panelWidth / 2, plotTop + plotHeight / 2, 'no data yet', {
          anchor: 'middle',
          fill: '#6b7280',
        }),
      );
      return;
    }
    const axis = (spec: Panel['x'], values: number[], a: number, b: number, pad: number): Scale => {
      const min = spec.min ?? Math.min(...values);
      const max = spec.max ?? Math.max(...values);
      return spec.log
        ? logScale(min / pad, max * pad, a, b, spec.format)
        : linearScale(Math.min(0, min), max * (1 + (pad - 1)), a, b, spec.format);
    };
    const sx = axis(panel.x, xs, left, right, 1);
    const sy = axis(panel.y, ys, bottom, plotTop, 1.15);
    for (const t of sy.ticks) {
      const y = sy(t.value);
      body.push(line(left, y, right, y, '#e5e7eb'));
      body.push(text(left - 6, y + 4, t.label, { size: 10, anchor: 'end', fill: '#4b5563' }));
    }
    for (const t of sx.ticks) {
      const x = sx(t.value);
      body.push(line(x, plotTop, x, bottom, '#f3f4f6'));
      body.push(text(x, bottom + 15, t.label, { size: 10, anchor: 'middle', fill: '#4b5563' }));
    }
    body.push(line(left, bottom, right, bottom, '#6b7280'), line(left, plotTop, left, bottom, '#6b7280'));
    body.push(
      text((left + right) / 2, bottom + 32, panel.xLabel, { size: 11, anchor: 'middle', fill: '#374151' }),
    );
    body.push(
      `<text transform="translate(${ox + 16} ${plotTop + plotHeight / 2}) rotate(-90)" font-size="11" text-anchor="middle" fill="#374151">${escapeXml(panel.yLabel)}</text>`,
    );
    for (const r of panel.references ?? []) {
      const y = sy(r.y);
      body.push(line(left, y, right, y, '#111827', 'stroke-dasharray="4 3"'));
      body.push(text(left + 4, y - 4, r.label, { size: 10, fill: '#111827' }));
    }
    for (const s of panel.series) {
      const pts = s.points.map((p) => `${num(sx(p.x))},${num(sy(p.y))}`);
      if (pts.length > 1) {
        body.push(
          `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
        );
      }
      for (const p of s.points) {
        body.push(`<circle cx="${num(sx(p.x))}" cy="${num(sy(p.y))}" r="3" fill="${s.color}"/>`);
      }
    }
    let ly = bottom + 52;
    for (const s of panel.series) {
      body.push(
        line(
          left,
          ly - 4,
          left + 26,
          ly - 4,
          s.color,
          `stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}`,
        ),
      );
      body.push(text(left + 32, ly, s.label, { size: 11 }));
      ly += 15;
    }
    for (const note of panel.footnotes ?? []) {
      body.push(text(left, ly + 2, note, { size: 10, fill: '#4b5563' }));
      ly += 14;
    }
  });
  return document(panels.length * panelWidth, height, body);
}

/** 0.5 -> "0.5x", 25 -> "25x", 151.2 -> "151x". */
export function formatTimes(r: number): string {
  if (r >= 100) return `${Math.round(r)}x`;
  if (r >= 10) return `${r.toFixed(1).replace(/\.0$/, '')}x`;
  if (r >= 0.1) return `${Number(r.toFixed(2))}x`;
  return `${Number(r.toPrecision(2))}x`;
}
