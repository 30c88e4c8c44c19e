/**
 * Admission control before the upgrade: an instance refuses what it cannot carry instead of
 * falling over. Origins (403), this instance's socket cap (503, and /ready turns 503 so the load
 * balancer sends new clients elsewhere) and a per-user cap (429). Every check is O(1); open
 * sockets are never touched by it.
 */
import { ConnectionIndex } from './connection-index.js'
import type { Hub } from './hub.js'

export const FORBIDDEN_ORIGIN = 'forbidden_origin'
export const TOO_MANY_CONNECTIONS = 'too_many_connections'

export interface AdmissionOptions {
  /** Comma-separated origins, or `*` for any. */
  allowedOrigins: string
  /** Sockets per instance; 0: no cap. */
  maxConnections: number
  /** Sockets per user per instance; 0: no cap. */
  maxPerUser: number
}

export interface Refusal {
  status: 403 | 429 | 503
  body: { error: string, message: string }
}

/** Origins compare as browsers send them: lower case, no trailing slash. */
function normaliseOrigin (origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '')
}

export function parseOrigins (list: string): Set<string> | null {
  const origins = list.split(',').map(normaliseOrigin).filter(origin => origin !== '')
  return origins.includes('*') ? null : new Set(origins)
}

export class Admission {
  readonly index = new ConnectionIndex()
  /** null: any origin. */
  private readonly origins: Set<string> | null

  constructor (private readonly opts: AdmissionOptions, private readonly hub: Pick<Hub, 'connections'>) {
    this.origins = parseOrigins(opts.allowedOrigins)
  }

  /** This instance takes no more sockets: /ready says so. */
  get full (): boolean {
    return this.opts.maxConnections > 0 && this.hub.connections.size >= this.opts.maxConnections
  }

  /** Requests without `Origin` (servers, apps) pass: only browsers send it, and they cannot forge it. */
  originAllowed (origin: string | undefined): boolean {
    return this.origins === null || origin === undefined || this.origins.has(normaliseOrigin(origin))
  }

  /** Why an upgrade must be refused, or null. */
  check (origin: string | undefined, user: string | null): Refusal | null {
    if (!this.originAllowed(origin)) {
      return { status: 403, body: { error: FORBIDDEN_ORIGIN, message: 'this origin may not open a socket' } }
    }
    if (this.full) {
      return { status: 503, body: { error: TOO_MANY_CONNECTIONS, message: 'this instance is at its connection limit' } }
    }
    const perUser = this.opts.maxPerUser
    if (perUser > 0 && user !== null && this.index.countOf(user) >= perUser) {
      return { status: 429, body: { error: TOO_MANY_CONNECTIONS, message: `at most ${perUser} sockets per user on this instance` } }
    }
    return null
  }
}
