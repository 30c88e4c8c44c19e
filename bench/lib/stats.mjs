/** Small numeric helpers for the report. */
export function median (values) {
  const xs = values.filter(v => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (xs.length === 0) return null
  const mid = Math.floor(xs.length / 2)
  return xs.length % 2 === 1 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2
}

export function ratio (a, b) {
  return a === null || b === null || b === 0 ? null : a / b
}

/** 812345 -> "812k", 1234 -> "1.23k", 12.345 -> "12.3" */
export function fmt (value, digits = 3) {
  if (value === null || value === undefined) return 'n/a'
  const abs = Math.abs(value)
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(digits)}M`
  if (abs >= 1e4) return `${Math.round(value / 1e3)}k`
  if (abs >= 1e3) return `${(value / 1e3).toPrecision(digits)}k`
  const text = value.toPrecision(digits)
  return text.includes('.') && !text.includes('e') ? text.replace(/0+$/, '').replace(/\.$/, '') : text
}

export function fmtRatio (value) {
  return value === null ? 'n/a' : `${value.toFixed(2)}x`
}

/** The value at fraction `p` (0.5: the median, 0.99) of values sorted ascending. */
export function percentile (sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}
