/**
 * docs/grafana-dashboard.json and the alert rules of docs/operations.md query only metrics the service really
 * exports: every metric name in every PromQL expression is checked against the `# TYPE` lines of
 * a live instance's /metrics (with Redis, so `chat_api_redis_up` is there too).
 */
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { PREFIX } from '../helper.js'
import { clusterApp, TEST_REDIS_URL, uniquePrefix } from '../redis-helper.js'

const FUNCTIONS_AND_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan'])

/** The metric names a PromQL expression reads. */
export function metricNames (expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping labels
    .replace(/\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(/g, '(') // function names
  const names = stripped.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []
  return [...new Set(names.filter(name => !FUNCTIONS_AND_KEYWORDS.has(name.toLowerCase())))]
}

/** Every `expr` (and templating query) of a Grafana dashboard, rows' nested panels included. */
function dashboardQueries (dashboard: any): string[] {
  const panels = (list: any[]): any[] => list.flatMap(p => [p, ...panels(p.panels ?? [])])
  const exprs = panels(dashboard.panels).flatMap(p => (p.targets ?? []).map((target: any) => target.expr))
  const variables = (dashboard.templating?.list ?? []).map((v: any) => {
    const query = typeof v.query === 'string' ? v.query : v.query?.query
    // label_values(metric, label): the metric is the first argument.
    return /label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(query ?? '')?.[1]
  }).filter(Boolean)
  return [...exprs, ...variables]
}

/** Series names a scrape can hold: each `# TYPE` metric, with the suffixes of histograms and summaries. */
function exportedNames (text: string): Set<string> {
  const names = new Set<string>()
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name)
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix)
  }
  return names
}

t.test('the extractor finds the metrics and nothing else', async t => {
  t.same(metricNames('histogram_quantile(0.99, sum by (le, instance) (rate(a_bucket{code="x",le=~"1|2"}[5m]))) / ignoring(code) b_total > 0.25'), ['a_bucket', 'b_total'])
  t.same(metricNames('min by (instance) (chat_api_redis_up{instance=~"$instance"}) == 0'), ['chat_api_redis_up'])
  t.same(metricNames('sum(rate(x_sum[$__rate_interval])) / sum(rate(x_count[$__rate_interval]))'), ['x_sum', 'x_count'])
})

t.test('every dashboard query and documented alert names only exported metrics', async t => {
  const { app } = await clusterApp(t, TEST_REDIS_URL, uniquePrefix())
  const exported = exportedNames((await app.inject(`${PREFIX}/metrics`)).body)
  const dashboard = JSON.parse(await readFile(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8'))
  const queries = dashboardQueries(dashboard)
  t.ok(queries.length >= 15, `${queries.length} queries`)
  const used = new Set<string>()
  for (const query of queries) {
    const names = metricNames(query)
    t.ok(names.length > 0, `${query} reads a metric`)
    for (const name of names) {
      used.add(name)
      t.ok(exported.has(name), `${name} (in ${query}) is exported`)
    }
  }
  const contract = [
    'chat_api_connections', 'chat_api_rooms', 'chat_api_frames_received_total', 'chat_api_messages_published_total',
    'chat_api_deliveries_total', 'chat_api_errors_total', 'chat_api_closes_total', 'chat_api_redis_up',
    'chat_api_redis_reconnects_total', 'chat_api_delivery_lag_seconds_bucket'
  ]
  for (const name of contract) t.ok(used.has(name), `the dashboard shows ${name}`)

  const readme = await readFile(new URL('../../docs/operations.md', import.meta.url), 'utf8')
  const alerts = [...readme.matchAll(/^\s*expr: (.+)$/gm)].map(m => m[1].trim())
  t.ok(alerts.length >= 3, 'docs/operations.md has the three alerts')
  for (const expr of alerts) {
    for (const name of metricNames(expr)) t.ok(exported.has(name), `alert: ${name} is exported`)
  }
})
