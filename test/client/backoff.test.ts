import t from 'tap'
import { backoffDelay, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS } from '../../src/client/backoff.js'

const ALMOST_ONE = 1 - Number.EPSILON

t.test('the step doubles from baseMs until maxMs; jitter stays in its upper half', async t => {
  const opts = { baseMs: 100, maxMs: 3000 }
  const steps = [100, 200, 400, 800, 1600, 3000, 3000, 3000]
  steps.forEach((step, attempt) => {
    t.equal(backoffDelay(attempt, opts, () => 0), step / 2, `attempt ${attempt}: lowest is half the step`)
    t.equal(backoffDelay(attempt, opts, () => ALMOST_ONE), step, `attempt ${attempt}: highest is the step`)
  })
})

t.test('random delays fall within [step/2, step], and the lower bound grows', async t => {
  const opts = { baseMs: 50, maxMs: 10_000 }
  let previousLow = 0
  for (let attempt = 0; attempt < 12; attempt++) {
    const step = Math.min(opts.maxMs, opts.baseMs * 2 ** attempt)
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(attempt, opts)
      if (delay < step / 2 || delay > step) t.fail(`attempt ${attempt}: ${delay} outside [${step / 2}, ${step}]`)
    }
    t.ok(step / 2 >= previousLow, `attempt ${attempt}: lower bound does not shrink`)
    previousLow = step / 2
  }
  t.equal(previousLow, opts.maxMs / 2, 'capped')
})

t.test('defaults, and attempts far past the cap stay finite', async t => {
  t.equal(backoffDelay(0, {}, () => 0), DEFAULT_BACKOFF_BASE_MS / 2)
  t.equal(backoffDelay(0, {}, () => ALMOST_ONE), DEFAULT_BACKOFF_BASE_MS)
  t.equal(backoffDelay(5000, {}, () => ALMOST_ONE), DEFAULT_BACKOFF_MAX_MS)
  t.equal(backoffDelay(-3, { baseMs: 10 }, () => 0), 5, 'a negative attempt counts as the first')
})
