/**
 * The OpenAPI 3.1 `webhooks` of the document: one POST per event type, its body the very TypeBox
 * schema the events are described and tested with (src/webhooks/events.ts), its signature headers
 * those of Standard Webhooks.
 */
import { WEBHOOK_BODY_SCHEMAS } from '../webhooks/events.js'
import { publishedSchema } from './asyncapi.js'

const SIGNATURE_HEADERS = [
  { name: 'webhook-id', description: 'The event\'s id, the same on every retry: deduplicate by it', schema: { type: 'string' } },
  { name: 'webhook-timestamp', description: 'When this attempt was signed, epoch seconds: refuse ones too far from now', schema: { type: 'string', pattern: '^[0-9]+$' } },
  { name: 'webhook-signature', description: '`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` keyed with the bytes of WEBHOOK_SECRET (after `whsec_`)', schema: { type: 'string' } }
].map(header => ({ ...header, in: 'header', required: true }))

export function webhooksDocument (): Record<string, unknown> {
  return Object.fromEntries(WEBHOOK_BODY_SCHEMAS.map(({ type, schema }) => [type, {
    post: {
      summary: (schema as { description?: string }).description,
      description: 'POSTed to WEBHOOK_URL. A 2xx within WEBHOOK_TIMEOUT_MS acknowledges it; anything else is retried 1 s, 2 s, 4 s, ... later (at most WEBHOOK_MAX_RETRY_DELAY_MS apart) for WEBHOOK_RETRY_FOR_SEC, with the same id.',
      parameters: SIGNATURE_HEADERS,
      requestBody: { required: true, content: { 'application/json': { schema: publishedSchema(schema) } } },
      responses: { '2XX': { description: 'Acknowledged: not sent again' } }
    }
  }]))
}
