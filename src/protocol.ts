/**
 * Stable codes of the wire contract (docs/protocol.md). Clients match on these strings and
 * numbers, so they live in one place and are never spelled inline.
 */
export const ErrorCode = {
  BAD_JSON: 'bad_json',
  BAD_FRAME: 'bad_frame',
  UNKNOWN_TYPE: 'unknown_type',
  INVALID_ROOM: 'invalid_room',
  NOT_IN_ROOM: 'not_in_room',
  TOO_MANY_ROOMS: 'too_many_rooms',
  FORBIDDEN: 'forbidden',
  RATE_LIMITED: 'rate_limited',
  // Version 2
  UNAVAILABLE: 'unavailable',
  HISTORY_DISABLED: 'history_disabled',
  PRESENCE_DISABLED: 'presence_disabled',
  UNAUTHORIZED: 'unauthorized',
  // Version 3: hooks
  REJECTED: 'rejected'
} as const
// eslint-disable-next-line @typescript-eslint/no-redeclare -- the value and its type share a name on purpose
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode]

export const CloseCode = {
  /** server shutting down */
  GOING_AWAY: 1001,
  /** binary frame */
  UNSUPPORTED_DATA: 1003,
  /** persistent rate-limit abuse, or a client that floods frames while a join is pending */
  POLICY_VIOLATION: 1008,
  /** frame larger than WS_MAX_MESSAGE_BYTES */
  MESSAGE_TOO_BIG: 1009,
  /** slow consumer: send buffer over WS_MAX_BUFFERED_BYTES */
  TRY_AGAIN_LATER: 1013,
  /** the token's `exp` passed without a `refresh` */
  TOKEN_EXPIRED: 4001,
  /** closed through the server API */
  DISCONNECTED: 4003,
  /** the instance could not keep the no-gap promise: rejoin with `since` */
  RESUME_NEEDED: 4010
} as const

/** The room naming rule, as a pattern and in words (for error messages and the docs). */
export const ROOM_PATTERN = '^[A-Za-z0-9_.:-]{1,64}$'
export const ROOM_RULE = '1 to 64 characters of A-Z a-z 0-9 _ . : -'
export const INVALID_ROOM_MESSAGE = `room names are ${ROOM_RULE}`
const ROOM_REGEXP = new RegExp(ROOM_PATTERN)

export function isValidRoom (room: string): boolean {
  return ROOM_REGEXP.test(room)
}

/** The scope a token needs to send a global broadcast. */
export const BROADCAST_SCOPE = 'chat:broadcast'
/** The scope a token needs to call the server API (publish, broadcast, disconnect). */
export const PUBLISH_SCOPE = 'chat:publish'
/** The scope a token needs to disconnect users and connections, and to see every room in stats. */
export const ADMIN_SCOPE = 'chat:admin'

/** The one WebSocket subprotocol the server selects, and only when the client offers it. */
export const SUBPROTOCOL = 'chat-api'

export const DEFAULT_PREFIX = '/api/chat-api'

/** The body of every 503 while the instance shuts down (/ready and refused upgrades). */
export const SHUTTING_DOWN = Object.freeze({ error: 'shutting_down', message: 'this instance is shutting down' })
