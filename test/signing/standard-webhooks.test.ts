import { test } from 'tap'
import { parseWebhookSecret, signatureHeaders } from '../../src/signing/standard-webhooks.js'

// The worked example of the Standard Webhooks specification (and of Svix's documentation): an
// independent vector, so a wrong key decoding or a wrong signed string fails here.
const SPEC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const SPEC_ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek'
const SPEC_TIMESTAMP = 1614265330
const SPEC_BODY = '{"test": 2432232314}'
const SPEC_SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='

test('signs the specification example as the specification does', async (t) => {
  const key = parseWebhookSecret(SPEC_SECRET)
  t.ok(key)
  const headers = signatureHeaders(key!, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
  t.same(headers, { 'webhook-id': SPEC_ID, 'webhook-timestamp': String(SPEC_TIMESTAMP), 'webhook-signature': SPEC_SIGNATURE })
  t.not(signatureHeaders(key!, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY + ' ')['webhook-signature'], SPEC_SIGNATURE, 'a changed body changes the signature')
})

test('refuses secrets that are not whsec_ and 24+ bytes of base64', async (t) => {
  t.equal(parseWebhookSecret('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), undefined, 'no prefix')
  t.equal(parseWebhookSecret('whsec_'), undefined, 'empty')
  t.equal(parseWebhookSecret('whsec_' + Buffer.alloc(23, 1).toString('base64')), undefined, '23 bytes')
  t.equal(parseWebhookSecret('whsec_not base64!'), undefined, 'not base64')
  t.equal(parseWebhookSecret('whsec_' + Buffer.alloc(24, 1).toString('base64'))?.length, 24, '24 bytes')
})
