/**
 * The Redis channel layout of one cluster, built from REDIS_CHANNEL_PREFIX in this one place so
 * that two clusters sharing a Redis never hear each other:
 *
 *   `${prefix}:all`          global broadcasts; every instance subscribes
 *   `${prefix}:control`      server API disconnects; every instance subscribes
 *   `${prefix}:room:${room}` one room; subscribed only while the instance has a member in it
 */
export interface RedisChannels {
  readonly all: string
  readonly control: string
  room (room: string): string
  /** The room a room channel belongs to; null for any other channel. */
  roomOf (channel: string): string | null
}

export function redisChannels (prefix: string): RedisChannels {
  const roomPrefix = `${prefix}:room:`
  return {
    all: `${prefix}:all`,
    control: `${prefix}:control`,
    room: (room) => roomPrefix + room,
    roomOf: (channel) => channel.length > roomPrefix.length && channel.startsWith(roomPrefix)
      ? channel.slice(roomPrefix.length)
      : null
  }
}
