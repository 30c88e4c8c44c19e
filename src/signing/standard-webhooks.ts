import { createHmac } from 'node:crypto'

/**
 * Standard Webhooks signing: the receiver recomputes an HMAC-SHA256 over
 * `id.timestamp.body` with the shared secret and compares). Webhooks (`WEBHOOK_SECRET`) and HTTP
 * hooks (`HOOK_SECRET`) sign the same way, so a backend verifies both with one library.
 */

const SECRET_PREFIX = 'whsec_'
/** The contract asks for at least 24 bytes of key material behind the prefix. */
const MIN_SECRET_BYTES = 24

/**
 * The key bytes of a `whsec_<base64>` secret, or undefined when the text is not one (wrong
 * prefix, not base64, or fewer than 24 bytes) so config can refuse to start naming the variable.
 */
export function parseWebhookSecret (text: string): Buffer | undefined {
  if (!text.startsWith(SECRET_PREFIX)) return undefined
  const encoded = text.slice(SECRET_PREFIX.length)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined
  const key = Buffer.from(encoded, 'base64')
  return key.length >= MIN_SECRET_BYTES ? key : undefined
}

/** The headers of one signed request: `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature`. */
export interface SignatureHeaders {
  'webhook-id': string
  'webhook-timestamp': string
  'webhook-signature': string
}

/** Signs `body` (the exact bytes sent) for message `id` at `timestampSeconds`. */
export function signatureHeaders (key: Buffer, id: string, timestampSeconds: number, body: string): SignatureHeaders {
  const timestamp = String(Math.floor(timestampSeconds))
  const digest = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
  return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${digest}` }
}
