/**
 * `chat-api/client`: a typed client for browsers and Node.
 *
 *   const chat = new ChatClient({ url: 'ws://localhost:3000/api/chat-api/ws', rooms: ['general'] })
 *   chat.on('message', m => console.log(m.from.user, m.data))
 *   await chat.connect()
 *   await chat.send('general', { text: 'hi' })
 */
export { ChatClient } from './chat-client.js'
export { DEFAULT_PRESENCE_RESYNC_MS, RoomPresence, type Member, type RoomPresenceEvents, type RoomPresenceOptions } from './presence.js'
export { UnreadCounts, type RoomUnread, type UnreadCountsEvents } from './unread-counts.js'
export { DEFAULT_READ_DELAY_MS } from './read-marker.js'
export { ChatError, type ChatErrorCode } from './errors.js'
export { backoffDelay, DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_MAX_MS, type BackoffOptions } from './backoff.js'
export { TypedEmitter, type Listener } from './emitter.js'
export type { SocketConstructor, SocketLike } from './socket.js'
export { MIN_REFRESH_INTERVAL_MS, refreshDelayMs, tokenExp, type TokenSource } from './token.js'
export type * from './types.js'
