/**
 * The AsyncAPI 3.0.0 document of the WebSocket endpoints, built from the frame schemas that also
 * validate client frames and fill the OpenAPI components. It is written from the client's side:
 * `send` operations are the frames a client sends, `receive` the frames it gets.
 * See the AsyncAPI 3.0.0 specification (the @asyncapi/parser package validates against it).
 */
import type { TSchema } from 'typebox'
import { CLIENT_FRAME_SCHEMAS, SERVER_FRAME_SCHEMAS } from '../schemas/frames.js'
import { ROOM_RULE } from '../protocol.js'
import { WsQuerySchema } from '../schemas/http.js'
import { CLOSE_CODE_DESCRIPTIONS, describeCodes, ERROR_CODE_DESCRIPTIONS } from './codes.js'

export interface AsyncApiOptions {
  /** The chat-api prefix, e.g. `/api/chat-api`. */
  prefix: string
  /** `host[:port]` that clients connect to. */
  host: string
  /** true: `wss`, false: `ws`. */
  secure: boolean
  authEnabled: boolean
  version: string
}

type Json = Record<string, unknown>

const ref = (path: string) => ({ $ref: `#/${path}` })

/** The component name of a frame schema: its `$id`. */
export function nameOf (schema: TSchema): string {
  return (schema as { $id?: string }).$id as string
}

/** The JSON of a frame schema as published: the schema's own fields, without `$id` (the key names it). */
export function publishedSchema (schema: TSchema): Json {
  // A schema refers to another by its $id (HistoryFrame's messages are MessageFrames); in the
  // document that is a component, where both documents keep it.
  const { $id: _id, ...rest } = JSON.parse(JSON.stringify(schema), (key, value) =>
    key === '$ref' && typeof value === 'string' && !value.startsWith('#') ? `#/components/schemas/${value}` : value) as Json
  return rest
}

function frameType (schema: TSchema): string {
  return (schema as { properties: { type: { const: string } } }).properties.type.const
}

function message (schema: TSchema, direction: 'client to server' | 'server to client'): Json {
  const isError = nameOf(schema) === 'ErrorFrame'
  const description = (schema as { description?: string }).description ?? `The \`${frameType(schema)}\` frame`
  // No `summary`: AsyncAPI takes it as plain text, and the descriptions are Markdown (`code`
  // words); the component shows the description, rendered, under the title.
  return {
    name: nameOf(schema),
    title: `${frameType(schema)} (${direction})`,
    description: isError
      ? `${description}. Codes:\n\n${describeCodes(ERROR_CODE_DESCRIPTIONS)}`
      : description,
    contentType: 'application/json',
    payload: ref(`components/schemas/${nameOf(schema)}`),
    ...(isError ? { 'x-error-codes': ERROR_CODE_DESCRIPTIONS } : {})
  }
}

const CHANNEL_NOTES = [
  'Text frames, each one JSON object. Any client frame may carry `id` (string or number); the reply',
  'to it (`ack`, `joined`, `left`, `pong`, `history`, `presence`, `refreshed` or `error`) carries the same `id`.',
  '\n\nClose codes:\n\n' + describeCodes(CLOSE_CODE_DESCRIPTIONS)
].join(' ')

function channel (address: string, description: string, extra: Json = {}): Json {
  const all = [...CLIENT_FRAME_SCHEMAS, ...SERVER_FRAME_SCHEMAS]
  return {
    address,
    description: `${description}\n\n${CHANNEL_NOTES}`,
    messages: Object.fromEntries(all.map(s => [nameOf(s), ref(`components/messages/${nameOf(s)}`)])),
    bindings: {
      ws: { method: 'GET', query: publishedSchema(WsQuerySchema), bindingVersion: '0.1.0' }
    },
    'x-close-codes': CLOSE_CODE_DESCRIPTIONS,
    ...extra
  }
}

function operations (channelName: string, title: string): Json {
  const messagesOf = (schemas: readonly TSchema[]) => schemas.map(s => ref(`channels/${channelName}/messages/${nameOf(s)}`))
  return {
    [`send${title}`]: {
      action: 'send',
      channel: ref(`channels/${channelName}`),
      summary: 'Frames a client sends',
      messages: messagesOf(CLIENT_FRAME_SCHEMAS)
    },
    [`receive${title}`]: {
      action: 'receive',
      channel: ref(`channels/${channelName}`),
      summary: 'Frames a client receives',
      // Markdown only in `description`: `summary` is plain text in AsyncAPI.
      description: 'The `welcome` frame first, then messages and replies.',
      messages: messagesOf(SERVER_FRAME_SCHEMAS)
    }
  }
}

export function buildAsyncApi (opts: AsyncApiOptions): Json {
  const schemes = {
    bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256 JWT in `Authorization: Bearer <token>`' },
    accessToken: { type: 'httpApiKey', in: 'query', name: 'access_token', description: 'The same JWT in the query (browsers)' }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'chat-api WebSocket',
      version: opts.version,
      description: 'Rooms and broadcasts over one WebSocket. Written from the client\'s side: `send` ' +
        'operations list the frames a client sends, `receive` those it gets. ' +
        `Authentication is ${opts.authEnabled ? 'on: a token is required before the upgrade' : 'off on this instance'}.`
    },
    defaultContentType: 'application/json',
    servers: {
      chat: {
        host: opts.host,
        pathname: opts.prefix,
        protocol: opts.secure ? 'wss' : 'ws',
        description: 'The service as PUBLIC_URL names it (unset: localhost and this instance\'s port); several instances behind one address share rooms through Redis',
        ...(opts.authEnabled ? { security: Object.keys(schemes).map(name => ref(`components/securitySchemes/${name}`)) } : {})
      }
    },
    channels: {
      ws: channel('/ws', 'A socket joined to no room, or to the room of `?room=`.'),
      wsRoom: channel('/ws/{room}', 'A socket already joined to `{room}` (and to `?room=`, if given).', {
        parameters: { room: { description: `Room name: ${ROOM_RULE}` } }
      })
    },
    operations: { ...operations('ws', 'Frames'), ...operations('wsRoom', 'RoomFrames') },
    components: {
      schemas: Object.fromEntries([...CLIENT_FRAME_SCHEMAS, ...SERVER_FRAME_SCHEMAS].map(s => [nameOf(s), publishedSchema(s)])),
      messages: Object.fromEntries([
        ...CLIENT_FRAME_SCHEMAS.map(s => [nameOf(s), message(s, 'client to server')]),
        ...SERVER_FRAME_SCHEMAS.map(s => [nameOf(s), message(s, 'server to client')])
      ]),
      securitySchemes: schemes
    }
  }
}
