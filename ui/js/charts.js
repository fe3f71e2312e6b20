// Charts as SVG elements built through the DOM: no markup strings, no inline styles (the CSP
// forbids them), no libraries. Colours come from CSS classes; every label is a text node.

const NS = 'http://www.w3.org/2000/svg';

/** Create an SVG element with attributes; `text` becomes its text content. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (key === 'text') el.textContent = String(value);
    else if (key === 'style') throw new Error('inline styles are forbidden by the CSP; use a class');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child) el.append(child);
  return el;
}

/** A round, readable top for an axis (1, 2, 5 × 10^n). */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const pow = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * pow >= value) return step * pow;
  return 10 * pow;
}

/**
 * Stacked bars, one per category. `rows`: [{ label, values: { key: number } }]; `series`:
 * [{ key, name }] bottom to top. Each segment is a <rect data-testid="bar-segment"> (zero
 * values draw nothing) inside a <g data-testid="bar">.
 */
export function stackedBars({ rows, series, title, height = 180, format = String }) {
  const barW = Math.max(8, Math.min(36, Math.floor(560 / Math.max(rows.length, 1)) - 6));
  const gap = 6;
  const left = 40;
  const top = 10;
  const plotH = height - top - 34;
  const width = left + rows.length * (barW + gap) + gap;
  const max = niceMax(Math.max(0, ...rows.map((r) => series.reduce((s, x) => s + (r.values[x.key] || 0), 0))));
  const scale = (v) => (v / max) * plotH;
  const root = svg('svg', { class: 'chart', role: 'img', 'aria-label': title, width, height, viewBox: `0 0 ${width} ${height}` });
  root.append(svg('title', { text: title }));
  for (const tick of [0, max / 2, max]) {
    const y = top + plotH - scale(tick);
    root.append(svg('line', { class: 'grid', x1: left - 4, x2: width, y1: y, y2: y }));
    root.append(svg('text', { class: 'axis', x: left - 8, y: y + 4, 'text-anchor': 'end', text: format(tick) }));
  }
  rows.forEach((row, i) => {
    const x = left + gap + i * (barW + gap);
    const g = svg('g', { 'data-testid': 'bar', 'data-label': row.label });
    let y = top + plotH;
    const parts = [];
    for (const s of series) {
      const v = row.values[s.key] || 0;
      if (v <= 0) continue;
      const hgt = Math.max(1, scale(v));
      y -= hgt;
      parts.push(`${s.name} ${format(v)}`);
      g.append(svg('rect', { class: `bar bar-${s.key}`, 'data-testid': 'bar-segment', 'data-series': s.key, 'data-value': v, x, y, width: barW, height: hgt },
        svg('title', { text: `${row.label}: ${s.name} ${format(v)}` })));
    }
    if (rows.length <= 16 || i % Math.ceil(rows.length / 16) === 0) {
      g.append(svg('text', { class: 'axis', x: x + barW / 2, y: top + plotH + 14, 'text-anchor': 'middle', text: row.short || row.label }));
    }
    g.append(svg('title', { text: parts.length ? `${row.label}: ${parts.join(', ')}` : `${row.label}: none` }));
    root.append(g);
  });
  return root;
}

/** Horizontal bars with a label and value per row: [{ label, value, detail?, cls? }]; a null value is "no data". */
export function horizontalBars({ rows, title, format = String, cls = 'bar-plain' }) {
  const rowH = 26;
  const labelW = 190;
  const plotW = 300;
  const height = Math.max(rowH, rows.length * rowH) + 4;
  const width = labelW + plotW + 70;
  const max = Math.max(1, ...rows.map((r) => r.value));
  const root = svg('svg', { class: 'chart', role: 'img', 'aria-label': title, width, height, viewBox: `0 0 ${width} ${height}` });
  root.append(svg('title', { text: title }));
  rows.forEach((row, i) => {
    const y = 2 + i * rowH;
    const w = row.value > 0 ? Math.max(2, (row.value / max) * plotW) : 0;
    const label = row.label.length > 28 ? `${row.label.slice(0, 27)}…` : row.label;
    root.append(svg('g', { 'data-testid': 'bar', 'data-label': row.label },
      svg('title', { text: row.detail ? `${row.label}: ${format(row.value)} — ${row.detail}` : `${row.label}: ${format(row.value)}` }),
      svg('text', { class: 'label', x: labelW - 8, y: y + 16, 'text-anchor': 'end', text: label }),
      svg('rect', { class: `bar ${row.cls || cls}`, 'data-testid': 'bar-segment', 'data-value': row.value ?? '', x: labelW, y: y + 4, width: w, height: rowH - 10 }),
      svg('text', { class: 'value', x: labelW + w + 6, y: y + 16, text: format(row.value) })));
  });
  return root;
}
