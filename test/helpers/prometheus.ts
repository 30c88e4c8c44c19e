/** Reads the Prometheus text format of `GET /metrics` into samples, for the metrics tests. */
import type { FastifyInstance } from 'fastify'
import { PREFIX } from '../helper.js'

export interface Sample { name: string, labels: Record<string, string>, value: number }

export function parseMetrics (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line)
    if (match === null) throw new Error(`not a sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value
    samples.push({ name: match[1], labels, value: Number(match[3]) })
  }
  return samples
}

export async function scrape (app: FastifyInstance): Promise<Sample[]> {
  const res = await app.inject(`${PREFIX}/metrics`)
  if (res.statusCode !== 200) throw new Error(`GET /metrics answered ${res.statusCode}`)
  return parseMetrics(res.body)
}

/** The value of one sample (0 when absent, as Prometheus reads a counter never incremented). */
export function valueOf (samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.find(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  return found?.value ?? 0
}
