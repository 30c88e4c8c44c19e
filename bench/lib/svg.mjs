/**
 * Just enough SVG to draw the bench's charts without a browser or a chart library: a plot area
 * with axes, ticks, a legend, points, lines and bars. Every number is rounded so the files diff
 * cleanly from one run to the next.
 */
const W = 800
const H = 400
const M = { left: 72, right: 230, top: 40, bottom: 56 }
export const PALETTE = ['#4e79a7', '#e15759', '#59a14f', '#f28e2b', '#76b7b2', '#b07aa1', '#9c755f']

const r1 = (v) => Math.round(v * 10) / 10
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** 1.2k, 45k, 1.5M: tick labels a reader takes in at a glance. */
export function short (v) {
  const abs = Math.abs(v)
  if (abs >= 1e6) return `${+(v / 1e6).toFixed(1)}M`
  if (abs >= 1e3) return `${+(v / 1e3).toFixed(1)}k`
  return `${+v.toFixed(abs < 10 ? 1 : 0)}`
}

/** Round tick values over [0, max]: 1, 2 or 5 times a power of ten apart, about five of them. */
export function ticks (max) {
  if (!(max > 0)) return [0, 1]
  const raw = max / 5
  const pow = 10 ** Math.floor(Math.log10(raw))
  const step = [1, 2, 5, 10].map(k => k * pow).find(s => s >= raw)
  const out = []
  for (let v = 0; v <= max + step / 2; v += step) out.push(v)
  if (out.at(-1) < max) out.push(out.at(-1) + step)
  return out
}

/** A chart in the making: `x`/`y` map data to pixels, `parts` collects the drawing. */
export function plot ({ title, xLabel, yLabel, xMax, yMax, xTickLabels }) {
  const xt = xTickLabels ? null : ticks(xMax)
  const yt = ticks(yMax)
  const xTop = xt ? xt.at(-1) : xMax
  const yTop = yt.at(-1)
  const pw = W - M.left - M.right
  const ph = H - M.top - M.bottom
  const x = (v) => r1(M.left + (v / xTop) * pw)
  const y = (v) => r1(M.top + ph - (v / yTop) * ph)
  const parts = [
    `<text x="${W / 2 - M.right / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${M.left}" y1="${M.top + ph}" x2="${M.left + pw}" y2="${M.top + ph}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`
  ]
  for (const v of yt) {
    parts.push(`<line x1="${M.left}" y1="${y(v)}" x2="${M.left + pw}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${y(v) + 4}" text-anchor="end">${short(v)}</text>`)
  }
  for (const v of xt ?? []) {
    parts.push(`<line x1="${x(v)}" y1="${M.top + ph}" x2="${x(v)}" y2="${M.top + ph + 5}" stroke="#333"/>`,
      `<text x="${x(v)}" y="${M.top + ph + 20}" text-anchor="middle">${short(v)}</text>`)
  }
  for (const [i, label] of (xTickLabels ?? []).entries()) {
    parts.push(`<text x="${x(i + 0.5)}" y="${M.top + ph + 20}" text-anchor="middle">${esc(label)}</text>`)
  }
  let legendRows = 0
  return {
    x,
    y,
    xTop,
    /** A polyline through the points, in order. */
    line (points, color, dash = '') {
      if (points.length < 2) return
      const d = points.map(([px, py]) => `${x(px)},${y(py)}`).join(' ')
      parts.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="1.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`)
    },
    /** A point: filled when `filled`, a ring otherwise. */
    point (px, py, color, filled = true, tip = '') {
      parts.push(`<circle cx="${x(px)}" cy="${y(py)}" r="3.5" fill="${filled ? color : 'white'}" stroke="${color}" stroke-width="1.5">` +
        (tip ? `<title>${esc(tip)}</title>` : '') + '</circle>')
    },
    /** A bar from 0 to `value` between `from` and `to` on the x scale. */
    bar (from, to, value, color, tip = '') {
      parts.push(`<rect x="${x(from)}" y="${y(value)}" width="${r1(x(to) - x(from))}" height="${r1(y(0) - y(value))}" fill="${color}">` +
        (tip ? `<title>${esc(tip)}</title>` : '') + '</rect>')
    },
    legend (label, color, shape = 'line') {
      const ly = M.top + 8 + legendRows++ * 20
      const lx = W - M.right + 16
      parts.push(shape === 'line'
        ? `<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${color}" stroke-width="2"/>`
        : `<rect x="${lx}" y="${ly - 6}" width="18" height="12" fill="${color}"/>`,
      `<text x="${lx + 24}" y="${ly + 4}">${esc(label)}</text>`)
    },
    note (text) {
      const ly = M.top + 8 + legendRows++ * 20
      parts.push(`<text x="${W - M.right + 16}" y="${ly + 4}" fill="#555" font-size="11">${esc(text)}</text>`)
    },
    toString () {
      return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ` +
        'font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n' +
        parts.join('\n') + '\n</svg>\n'
    }
  }
}
