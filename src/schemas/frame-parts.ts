/** The pieces every frame schema shares; their own module so that frames.ts and the features' frame schemas both import them. */
import { Type } from 'typebox'
import { ROOM_PATTERN, ROOM_RULE } from '../protocol.js'

export const RoomNameSchema = Type.String({
  pattern: ROOM_PATTERN,
  description: ROOM_RULE
})

export const FrameIdSchema = Type.Union([Type.String(), Type.Number()], {
  description: 'Optional correlation id; the reply to this frame carries the same id'
})
