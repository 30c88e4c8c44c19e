/**
 * The client's types, taken from the server's frame schemas. Type-only imports: the compiled
 * client carries no server code (nor TypeBox) into a browser.
 */
import type { Static } from 'typebox'
import type {
  AckFrameSchema, JoinedFrameSchema, LeftFrameSchema, PongFrameSchema, RefreshedFrameSchema,
  BroadcastFrame, ErrorFrame, FrameId, HistoryFrame, MemberJoinedFrame, MemberLeftFrame, MessageFrame, PresenceFrame, ServerFrame,
  WelcomeFrame
} from '../schemas/frames.js'
import type { ReadFrameSchema, ReadReceiptFrameSchema, UnreadFrameSchema } from '../schemas/read-state.js'
import type { BackoffOptions } from './backoff.js'
import type { ChatError } from './errors.js'
import type { SocketConstructor } from './socket.js'
import type { TokenSource } from './token.js'

export type AckFrame = Static<typeof AckFrameSchema>
export type JoinedFrame = Static<typeof JoinedFrameSchema>
export type LeftFrame = Static<typeof LeftFrameSchema>
export type PongFrame = Static<typeof PongFrameSchema>
export type RefreshedFrame = Static<typeof RefreshedFrameSchema>
export type ReadFrame = Static<typeof ReadFrameSchema>
export type UnreadFrame = Static<typeof UnreadFrameSchema>
export type ReadReceiptFrame = Static<typeof ReadReceiptFrameSchema>
export type {
  BroadcastFrame, ErrorFrame, FrameId, HistoryFrame, MemberJoinedFrame, MemberLeftFrame, MessageFrame, PresenceFrame, ServerFrame, WelcomeFrame
}

/** Where the client stands in a room's history: the last message it got (or the `joined` position). */
export interface RoomPosition {
  offset: number
  epoch: string
}

export interface SendOptions {
  /** Idempotency key; default a random one, so a send retried over a reconnect is stored once. */
  key?: string
  /** A transient message (typing indicators): not stored, not retried, at most once. */
  transient?: boolean
}

export interface HistoryOptions {
  /** How many messages; default 50, at most 100. */
  limit?: number
  /** Only messages with offsets below this one. */
  before?: number
}

export interface RoomResumeEvent {
  room: string
  /** Where the room stands now: live messages continue from offset+1. */
  offset: number
  epoch: string
}

export interface ChatClientOptions {
  /** The `/ws` endpoint, e.g. `ws://localhost:3000/api/chat-api/ws`. */
  url: string
  /**
   * A JWT, sent as `access_token` in the query (browsers cannot set headers on a WebSocket); or a
   * function returning one, asked at every connection and ahead of each token's `exp` (`refresh`).
   */
  token?: TokenSource
  /** Rooms to join on connect (and again after every reconnect). */
  rooms?: string[]
  /** A request (join, leave, send, broadcast, ping) with no reply in this time rejects; default 10000. */
  requestTimeoutMs?: number
  /** A connection attempt with no `welcome` in this time is dropped and retried; default 10000. */
  connectTimeoutMs?: number
  /** Back-off of the automatic reconnect, or `false` for none; default `{ baseMs: 250, maxMs: 10000 }`. */
  reconnect?: false | BackoffOptions
  /** `markRead` sends at most one `read` per room this often (ms): reading 50 messages in a second is one frame. Default 1000. */
  readDelayMs?: number
  /** WebSocket implementation; default the global one, else the `ws` package. */
  WebSocket?: SocketConstructor
}

export interface OpenEvent {
  welcome: WelcomeFrame
  /** The rooms the socket is in now, those rejoined after a reconnect included. */
  rooms: string[]
  /** False for the first connection, true after a reconnect. */
  reconnected: boolean
}

export interface CloseEvent {
  code: number
  reason: string
  /** Delay before the next attempt, or null when the client will not reconnect. */
  reconnectInMs: number | null
}

export interface ChatClientEvents {
  /** Connected, welcomed and back in every room. */
  open: OpenEvent
  message: MessageFrame
  broadcast: BroadcastFrame
  /** Another connection joined one of the client's rooms (on any instance). */
  member_joined: MemberJoinedFrame
  /** Another connection left one of the client's rooms, closed, or was lost with its instance. */
  member_left: MemberLeftFrame
  /** A room rejoined after a reconnect with every message missed meanwhile replayed before this event's position. */
  recovered: RoomResumeEvent
  /**
   * A room rejoined after a reconnect, but the messages missed meanwhile could not be replayed
   * (the history no longer holds them, or was lost): reload it, e.g. with `history()`. Also
   * emitted, with the socket open, just before a live message of a new epoch (the room's history
   * was lost meanwhile, e.g. Redis restarted empty): the event's position is that message's.
   */
  gap: RoomResumeEvent
  /** A user moved its read cursor in one of the client's rooms (this client's user included). */
  read_receipt: ReadReceiptFrame
  /** An error frame no request is waiting for (e.g. a refused rejoin), or a socket error. */
  error: ChatError
  close: CloseEvent
}

export type ClientState = 'idle' | 'connecting' | 'open' | 'closed'
