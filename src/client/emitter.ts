/**
 * A tiny typed event emitter. The client runs in browsers, where Node's `events` module does not
 * exist, and a typed map of event -> payload catches a misspelt event name at compile time.
 */
export type Listener<T> = (payload: T) => void

export class TypedEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Set<Listener<any>>>()

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof Events> (event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event)
    if (set === undefined) {
      set = new Set()
      this.listeners.set(event, set)
    }
    set.add(listener)
    return () => this.off(event, listener)
  }

  /** Like `on`, for the next event only. */
  once<K extends keyof Events> (event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (payload) => {
      off()
      listener(payload)
    })
    return off
  }

  off<K extends keyof Events> (event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener)
  }

  /**
   * Calls every listener. One that throws must not leave the client half-way through handling a
   * frame, so its error is rethrown on its own (as the DOM's EventTarget reports it).
   */
  protected emit<K extends keyof Events> (event: K, payload: Events[K]): void {
    const set = this.listeners.get(event)
    if (set === undefined) return
    for (const listener of [...set]) {
      try {
        listener(payload)
      } catch (err) {
        queueMicrotask(() => { throw err })
      }
    }
  }
}
