import type { ChatError } from './errors.js'

/** A promise with its settling functions, for a result that a later event delivers (the first `welcome`). */
export interface Deferred<T> { promise: Promise<T>, resolve: (value: T) => void, reject: (err: ChatError) => void }

export function deferred<T> (): Deferred<T> {
  const d = {} as Deferred<T>
  d.promise = new Promise<T>((resolve, reject) => { d.resolve = resolve; d.reject = reject })
  return d
}
