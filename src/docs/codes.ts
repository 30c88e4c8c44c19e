/**
 * What each error code and close code of src/protocol.ts means to a client author. Typed by the
 * constants, so a code added there without a description here fails the type-check.
 */
import { CloseCode, ErrorCode, ROOM_RULE } from '../protocol.js'

export const ERROR_CODE_DESCRIPTIONS: Record<ErrorCode, string> = {
  [ErrorCode.BAD_JSON]: 'the frame is not valid JSON',
  [ErrorCode.BAD_FRAME]: 'valid JSON of the wrong shape: not an object, `type` not a string, `room` or `data` missing, a field of the wrong type',
  [ErrorCode.UNKNOWN_TYPE]: '`type` names no client frame',
  [ErrorCode.INVALID_ROOM]: `a string \`room\` that breaks the naming rule (${ROOM_RULE})`,
  [ErrorCode.NOT_IN_ROOM]: '`leave` or `message` for a room the socket has not joined',
  [ErrorCode.TOO_MANY_ROOMS]: 'joining one more room would pass WS_MAX_ROOMS_PER_CONNECTION',
  [ErrorCode.FORBIDDEN]: 'the token\'s `rooms` claim does not allow the room, the join hook refused it (with `reason`), or `broadcast` without the chat:broadcast scope',
  [ErrorCode.RATE_LIMITED]: 'more than WS_RATE_LIMIT_PER_SEC frames per second; the frame was dropped',
  [ErrorCode.UNAVAILABLE]: 'Redis is configured but unreachable: the room message was stored nowhere and delivered to no one (resend it later with the same `key`), or a `history`/`presence` request could not be answered, or a hook failed with HOOK_FAILURE=closed',
  [ErrorCode.HISTORY_DISABLED]: '`history` while HISTORY_SIZE=0',
  [ErrorCode.PRESENCE_DISABLED]: '`presence` while PRESENCE_ENABLED=false',
  [ErrorCode.UNAUTHORIZED]: 'the token of a `refresh` does not verify; the old expiry stands',
  [ErrorCode.REJECTED]: 'the publish hook refused the message (its `reason` is in the frame): nothing was stored or delivered, no offset was used'
}

export const CLOSE_CODE_DESCRIPTIONS: Record<typeof CloseCode[keyof typeof CloseCode], string> = {
  [CloseCode.GOING_AWAY]: 'the server is shutting down; reconnect (to another instance)',
  [CloseCode.UNSUPPORTED_DATA]: 'a binary frame was sent; only text frames holding JSON are accepted',
  [CloseCode.POLICY_VIOLATION]: 'persistent rate-limit abuse, or too many frames queued behind a pending join',
  [CloseCode.MESSAGE_TOO_BIG]: 'a frame larger than WS_MAX_MESSAGE_BYTES',
  [CloseCode.TRY_AGAIN_LATER]: 'slow consumer: the send buffer passed WS_MAX_BUFFERED_BYTES',
  [CloseCode.TOKEN_EXPIRED]: 'the token\'s `exp` passed and no `refresh` brought a new one',
  [CloseCode.DISCONNECTED]: 'closed by the server API (`POST /users/{user}/disconnect` or `/connections/{id}/disconnect`)',
  [CloseCode.RESUME_NEEDED]: 'the instance lost messages of a joined room (its Redis link was down longer than the history holds): reconnect and rejoin with `since`'
}

/** A markdown list, for the `description` fields of the documents. */
export function describeCodes (descriptions: Record<string | number, string>): string {
  return Object.entries(descriptions).map(([code, text]) => `- \`${code}\`: ${text}`).join('\n')
}
