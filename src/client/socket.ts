/**
 * The WebSocket the client uses: the global one (browsers, Node 22+), else the `ws` package. `ws`
 * is imported dynamically and under a computed name, so a browser build never references it and
 * bundlers do not try to resolve it.
 */

/** The part of the WHATWG WebSocket the client needs; both the browser's and `ws` have it. */
export interface SocketLike {
  readonly readyState: number
  send (data: string): void
  close (code?: number, reason?: string): void
  /** `ws`'s: drops the connection without the closing handshake (a browser's WebSocket has none). */
  terminate?: () => void
  addEventListener (type: 'open', listener: () => void): void
  addEventListener (type: 'message', listener: (event: { data: unknown }) => void): void
  addEventListener (type: 'close', listener: (event: { code: number, reason: string }) => void): void
  addEventListener (type: 'error', listener: (event: { message?: string }) => void): void
}

export type SocketConstructor = new (url: string) => SocketLike

export const OPEN = 1

const NODE_WS_MODULE = 'ws'

export async function resolveWebSocket (): Promise<SocketConstructor> {
  const global = (globalThis as { WebSocket?: SocketConstructor }).WebSocket
  if (global !== undefined) return global
  const mod = await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_WS_MODULE) as { WebSocket: SocketConstructor }
  return mod.WebSocket
}
