/** What the hub and its rooms' feeds log: warnings only (the app passes its Fastify logger). */
export interface HubLog {
  warn (obj: object, msg: string): void
}
