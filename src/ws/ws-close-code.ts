/**
 * The close code `ws` sends by itself when a client's frame breaks a rule it enforces (a frame over
 * maxPayload, invalid UTF-8, a protocol error): it closes the socket and then emits the error,
 * whose documented `code` (`WS_ERR_*`) says which. chat-api counts those closes as its own.
 */
const CODES: Readonly<Record<string, number>> = {
  WS_ERR_UNSUPPORTED_MESSAGE_LENGTH: 1009,
  WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH: 1009,
  WS_ERR_INVALID_UTF8: 1007,
  WS_ERR_TOO_MANY_BUFFERED_PARTS: 1008
}

/** The code ws closed with for this error; null for an error that closed nothing (a reset socket). */
export function wsCloseCode (err: Error & { code?: unknown }): number | null {
  if (typeof err.code !== 'string' || !err.code.startsWith('WS_ERR_')) return null
  // Every other receiver error is a protocol error.
  return CODES[err.code] ?? 1002
}
