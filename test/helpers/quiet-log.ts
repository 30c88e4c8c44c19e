/** A logger that drops everything, for parts built by hand in a test (a store, a dispatcher) that only log. */
import type { FastifyBaseLogger } from 'fastify'

export const quietLog = { debug () {}, info () {}, warn () {}, error () {} } as unknown as FastifyBaseLogger
