/**
 * A deadline on every command a client sends (REDIS_COMMAND_TIMEOUT_MS): past it the command's
 * promise rejects, whatever became of the command — stuck on a stalled link, waiting in an offline
 * queue, or set aside by a reconnect and never answered (ioredis 6.0.0 dropped such commands without
 * rejecting them). A room's resync, a heartbeat, an `ack` and a shutdown all await some command;
 * this is what keeps each of them from waiting for ever.
 *
 * ioredis's own `commandTimeout` arms a timer too, but only when a single connection takes the
 * command: a Cluster's offline queue (no node known yet, or all being reconnected) is not covered.
 * Arming it here, where every command enters the client (EVALSHA of the scripts included, and on a
 * Cluster before any routing), covers both. The timer is armed once per command: a Cluster's
 * redirections and retries of the same command do not extend it. A script's EVAL fallback after
 * NOSCRIPT is a second command with a deadline of its own.
 *
 * The deadline measures Redis, not this process: a timer fires in the event loop's timers phase,
 * before that turn's poll phase reads the sockets, so after the loop stalled past the deadline
 * (a long GC, a starved CPU) the answer may be waiting unread while its timer fires. ioredis's timer
 * would then reject a command Redis had answered in time: a message stored and delivered, its
 * sender told `unavailable`. So the expiry is decided in the check phase (`setImmediate`), after
 * the poll has read what arrived.
 */
import type { Cluster, Redis } from 'ioredis'

type Command = Parameters<Redis['sendCommand']>[0]

function expire (command: Command): void {
  setImmediate(() => {
    if (!command.isSettled) command.reject(new Error('Command timed out'))
  })
}

export function withCommandDeadline<T extends Redis | Cluster> (client: T, timeoutMs: number): T {
  const send = client.sendCommand.bind(client) as (...args: Parameters<T['sendCommand']>) => unknown
  client.sendCommand = ((...args: Parameters<T['sendCommand']>) => {
    const command = args[0]
    const timer = setTimeout(expire, timeoutMs, command)
    const settled = (): void => { clearTimeout(timer) }
    command.promise.then(settled, settled)
    return send(...args)
  }) as T['sendCommand']
  return client
}
