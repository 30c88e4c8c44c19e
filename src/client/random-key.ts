/**
 * Idempotency keys for sends. They need to be unique, not secret: Web Crypto when the runtime has
 * it (browsers, Node), else (React Native without a polyfill) the time, a random part and a
 * counter, which no two sends of one client share and two clients share only by a 1-in-36^10
 * chance within the same millisecond.
 */
let counter = 0

interface WebCryptoLike { getRandomValues: (array: Uint8Array) => Uint8Array }

/** A key of at most 64 characters (the protocol's bound), base 36. */
export function randomKey (): string {
  const webCrypto = (globalThis as { crypto?: Partial<WebCryptoLike> }).crypto
  if (typeof webCrypto?.getRandomValues === 'function') {
    const bytes = new Uint8Array(16)
    webCrypto.getRandomValues(bytes)
    return Array.from(bytes, b => b.toString(36).padStart(2, '0')).join('')
  }
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  const random = Math.random().toString(36).slice(2, 12).padEnd(10, '0')
  return `${Date.now().toString(36)}-${random}-${counter.toString(36)}`
}
