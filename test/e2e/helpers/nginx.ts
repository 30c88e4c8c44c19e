/**
 * Debian's nginx in front of chat-api instances, running deploy/nginx.conf itself: the helper
 * only puts its own ports into that file's `listen` and `upstream chat_api` lines and wraps it in a
 * main configuration whose pid file, logs and temp dirs live in a tmp dir. nginx runs in the
 * foreground (`daemon off`) as a child of the test and is stopped at teardown. A machine without
 * nginx fails here (`apt-get install -y nginx`; .ci/run installs it), it does not skip.
 *
 *   const proxy = await startNginx(t, instances.map(i => i.port))
 *   new WebSocket(`${proxy.ws}/ws/general`)
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, chmodSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { PREFIX } from '../../helper.js'
import { freePort } from '../../redis-helper.js'

export const DEPLOY_NGINX_CONF = fileURLToPath(new URL('../../../deploy/nginx.conf', import.meta.url))

interface Teardown { teardown: (fn: () => unknown) => void }

/** nginx on PATH, or in /usr/sbin (not on a non-root PATH), or null. */
export function findNginx (path = process.env.PATH ?? ''): string | null {
  for (const dir of [...path.split(delimiter).filter(Boolean), '/usr/sbin']) {
    const file = join(dir, 'nginx')
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {}
  }
  return null
}

/**
 * deploy/nginx.conf with `listen` on 127.0.0.1:`port` and one `server` line per upstream port,
 * each keeping the parameters (max_fails, ...) of the file's first one. Throws if the file no
 * longer has the lines this relies on, so the test cannot silently run another configuration.
 */
export function siteConfig (source: string, port: number, upstreamPorts: number[]): string {
  const upstream = /(upstream chat_api \{\n)([\s\S]*?)(\n\})/.exec(source)
  if (upstream === null) throw new Error('deploy/nginx.conf: no `upstream chat_api { ... }` block')
  const servers = [...upstream[2].matchAll(/^(\s*)server\s+\S+(.*);$/gm)]
  if (servers.length === 0) throw new Error('deploy/nginx.conf: no `server host:port ...;` line in the upstream block')
  const [, indent, params] = servers[0]
  const lines = upstream[2].split('\n').filter(line => !/^\s*server\s/.test(line))
  const firstServerLine = upstream[2].split('\n').findIndex(line => /^\s*server\s/.test(line))
  lines.splice(firstServerLine, 0, ...upstreamPorts.map(p => `${indent}server 127.0.0.1:${p}${params};`))
  let site = source.replace(upstream[0], upstream[1] + lines.join('\n') + upstream[3])
  const listens = site.match(/^\s*listen\s+[^;]+;$/gm) ?? []
  if (listens.length !== 1) throw new Error(`deploy/nginx.conf: expected one \`listen\` line, found ${listens.length}`)
  site = site.replace(/^(\s*)listen\s+[^;]+;$/m, `$1listen 127.0.0.1:${port};`)
  return site
}

export class Nginx {
  private child: ChildProcess | null = null
  private exited: Promise<void> = Promise.resolve()

  constructor (readonly port: number, readonly dir: string) {}

  /** `http://127.0.0.1:PORT/api/chat-api` */
  get http (): string {
    return `http://127.0.0.1:${this.port}${PREFIX}`
  }

  /** `ws://127.0.0.1:PORT/api/chat-api` */
  get ws (): string {
    return `ws://127.0.0.1:${this.port}${PREFIX}`
  }

  get accessLogFile (): string {
    return join(this.dir, 'access.log')
  }

  get errorLogFile (): string {
    return join(this.dir, 'error.log')
  }

  /**
   * One line per finished request: `METHOD URI STATUS upstream=ADDR[, ADDR] statuses=S[, S]`.
   * nginx writes a WebSocket's line when the socket closes.
   */
  accessLog (): string[] {
    return existsSync(this.accessLogFile) ? readFileSync(this.accessLogFile, 'utf8').split('\n').filter(Boolean) : []
  }

  errorLog (): string {
    return existsSync(this.errorLogFile) ? readFileSync(this.errorLogFile, 'utf8') : ''
  }

  async start (nginx: string): Promise<void> {
    const child = spawn(nginx, ['-p', this.dir, '-c', join(this.dir, 'nginx.conf'), '-e', this.errorLogFile, '-g', 'daemon off;'], {
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let stderr = ''
    child.stderr?.on('data', (chunk) => { stderr += chunk })
    this.child = child
    this.exited = new Promise(resolve => child.once('close', () => resolve()))
    // Up once it answers on its port (nginx prints nothing when it starts well).
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}: ${stderr}${this.errorLog()}`)
      try {
        await fetch(`http://127.0.0.1:${this.port}/`, { signal: AbortSignal.timeout(1000) })
        return
      } catch {}
      await sleep(50)
    }
    throw new Error(`nginx did not answer on ${this.port}: ${stderr}${this.errorLog()}`)
  }

  /** SIGTERM: nginx's fast shutdown, which also closes the WebSockets it proxies. */
  async stop (): Promise<void> {
    if (this.child !== null && this.child.exitCode === null) this.child.kill('SIGTERM')
    await this.exited
  }
}

/** Debian's nginx running deploy/nginx.conf on a free port, in front of `upstreamPorts`. */
export async function startNginx (t: Teardown, upstreamPorts: number[]): Promise<Nginx> {
  const binary = findNginx()
  if (binary === null) throw new Error('nginx not found (PATH or /usr/sbin): apt-get install -y nginx')
  const dir = mkdtempSync(join(tmpdir(), 'chat-api-nginx-'))
  // Workers run as `nobody` when the master is root: they need to reach the temp dirs in here.
  chmodSync(dir, 0o755)
  const proxy = new Nginx(await freePort(), dir)
  writeFileSync(join(dir, 'chat-api.conf'), siteConfig(readFileSync(DEPLOY_NGINX_CONF, 'utf8'), proxy.port, upstreamPorts))
  writeFileSync(join(dir, 'nginx.conf'), [
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    `error_log ${proxy.errorLogFile} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(kind => `  ${kind}_temp_path ${join(dir, kind)};`),
    '  log_format upstreams \'$request_method $request_uri $status upstream=$upstream_addr statuses=$upstream_status\';',
    `  access_log ${proxy.accessLogFile} upstreams;`,
    `  include ${join(dir, 'chat-api.conf')};`,
    '}',
    ''
  ].join('\n'))
  t.teardown(async () => {
    await proxy.stop()
    if (process.env.KEEP_E2E_LOGS === undefined) rmSync(dir, { recursive: true, force: true })
  })
  await proxy.start(binary)
  return proxy
}
