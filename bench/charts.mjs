#!/usr/bin/env node
/**
 * Draws a past run's charts again from its JSON, beside it:
 *   node bench/charts.mjs bench/results/2026-11-29-history.json
 */
import { readFile } from 'node:fs/promises'
import { writeCharts } from './lib/charts.mjs'
import { scenariosOf, summarise } from './lib/report.mjs'

const files = process.argv.slice(2)
if (files.length === 0) throw new Error('usage: node bench/charts.mjs RESULTS.json [...]')
for (const file of files) {
  const results = JSON.parse(await readFile(file, 'utf8'))
  for (const written of await writeCharts(results, summarise(results), scenariosOf(results), file.replace(/\.json$/, ''))) console.log(written)
}
