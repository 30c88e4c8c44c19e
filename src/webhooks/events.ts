/**
 * The webhook events: their types, the TypeBox schemas of their bodies (the AsyncAPI document
 * publishes these same schemas), and how a body is built. Bodies are assembled as strings from
 * parts that are JSON already (a message's `data` and `from` as the hub serialised them), so an
 * event costs no parse and no second serialisation of the message.
 */
import { Type, type TSchema } from 'typebox'

export const WEBHOOK_EVENT_TYPES = [
  'room.occupied', 'room.vacated', 'member.joined', 'member.left', 'user.online', 'user.offline', 'message.stored'
] as const

export type WebhookEventType = typeof WEBHOOK_EVENT_TYPES[number]

export function isWebhookEventType (text: string): text is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(text)
}

const room = Type.String({ description: 'The room' })
const user = Type.Union([Type.String(), Type.Null()], { description: 'The user (the token\'s `sub`); null with auth off or for the API key' })

const DATA_SCHEMAS: Record<WebhookEventType, TSchema> = {
  'room.occupied': Type.Object({ room }),
  'room.vacated': Type.Object({ room }),
  'member.joined': Type.Object({ room, connectionId: Type.String(), user }),
  'member.left': Type.Object({ room, connectionId: Type.String(), user }),
  'user.online': Type.Object({ user: Type.String() }),
  'user.offline': Type.Object({ user: Type.String(), lastSeen: Type.Integer({ description: 'Epoch ms when the user\'s last socket closed' }) }),
  'message.stored': Type.Object({
    room,
    messageId: Type.String(),
    offset: Type.Optional(Type.Integer({ minimum: 1, description: 'Absent with history off' })),
    epoch: Type.Optional(Type.String({ description: 'Absent with history off' })),
    from: Type.Object({ connectionId: Type.Union([Type.String(), Type.Null()]), user }, { description: 'The sender, as in the `message` frame' }),
    data: Type.Unknown({ description: 'The message\'s data, as sent' }),
    key: Type.Union([Type.String(), Type.Null()], { description: 'The sender\'s idempotency key, or null' })
  })
}

const DESCRIPTIONS: Record<WebhookEventType, string> = {
  'room.occupied': 'A room got its first member anywhere in the cluster',
  'room.vacated': 'A room has had no member anywhere for WEBHOOK_VACATED_DELAY_MS',
  'member.joined': 'A connection joined a room (as `member_joined`)',
  'member.left': 'A connection left a room, closed, or its instance was killed (as `member_left`)',
  'user.online': 'Auth on: a user\'s first socket in the cluster opened',
  'user.offline': 'Auth on: a user\'s last socket in the cluster closed (or its instance was killed), WEBHOOK_VACATED_DELAY_MS ago',
  'message.stored': 'A room message was stored (not transient), from a socket or the server API'
}

/** The component name of an event's schema: `room.vacated` -> `RoomVacatedWebhook`. */
export function webhookSchemaName (type: WebhookEventType): string {
  return type.split('.').map(part => part[0].toUpperCase() + part.slice(1)).join('') + 'Webhook'
}

/** The body of each event type: `{type, id, timestamp, data}`. */
export const WEBHOOK_BODY_SCHEMAS: ReadonlyArray<{ type: WebhookEventType, schema: TSchema }> = WEBHOOK_EVENT_TYPES.map(type => ({
  type,
  schema: Type.Object({
    type: Type.Literal(type),
    id: Type.String({ description: 'Unique per event, kept by every retry: the `webhook-id` header; deduplicate by it' }),
    timestamp: Type.Integer({ description: 'Epoch ms when the event happened' }),
    data: DATA_SCHEMAS[type]
  }, { $id: webhookSchemaName(type), description: DESCRIPTIONS[type] })
}))

/** One event ready to queue: its id, type, when it happened, and the exact body to sign and send. */
export interface WebhookEvent {
  id: string
  type: WebhookEventType
  /** Epoch ms. */
  timestamp: number
  body: string
  /** The room it is about, if any: on a Cluster, the queue's stream it goes to (not stored with it). */
  room?: string
}

/** `dataJson` must be a JSON object already. */
export function webhookEvent (id: string, type: WebhookEventType, timestamp: number, dataJson: string, room?: string): WebhookEvent {
  return { id, type, timestamp, body: `{"type":"${type}","id":${JSON.stringify(id)},"timestamp":${timestamp},"data":${dataJson}}`, room }
}

const ROOM_FIELD = '{"room":"'

/** The room of an event's `data` that starts with it, as every room event's does (room names hold no quote). */
export function roomOfData (dataJson: string): string | undefined {
  if (!dataJson.startsWith(ROOM_FIELD)) return undefined
  const end = dataJson.indexOf('"', ROOM_FIELD.length)
  return end < 0 ? undefined : dataJson.slice(ROOM_FIELD.length, end)
}
