/** What the chaos checker can find, one kind per broken promise of "Delivery under faults". */
export type ViolationKind =
  /** Offsets skipped within an epoch with no 4010 and no `recovered:false` between. */
  | 'gap'
  /** A message received twice by one member. */
  | 'duplicate'
  /** An offset lower than the last one of the same epoch. */
  | 'out-of-order'
  /** A typed client got a message of a new epoch and raised no `gap` event. */
  | 'epoch-change-unseen'
  /** A 4010 close where the room's history was lost (a new epoch): that must be told in-band, sockets stay open. */
  | 'closed-on-history-loss'
  /** `recovered:false` though the epoch was the same and the history still held what was missed. */
  | 'recovery-refused'
  /** `recovered:true`, but the replay stopped short of the `joined` offset. */
  | 'replay-incomplete'
  /** A member that joined with no position never got messages stored after its `joined`. */
  | 'missed-after-join'
  /** One (room, epoch, offset) named two different messages. */
  | 'offset-reused'
  /** An acknowledged message of the room's current epoch is not in its history. */
  | 'acked-lost'
  /** A send stored twice (its token twice in a history, or one key acknowledged at two offsets of an epoch). */
  | 'stored-twice'
  /** The stored history itself has a hole. */
  | 'history-hole'
  /** A send that got no reply while its socket stayed open (or a typed send that timed out). */
  | 'send-unanswered'
  // Live checks (end-checks.ts):
  | 'room-frozen' | 'probe-refused' | 'member-not-back' | 'presence-not-converged' | 'cluster-not-converged'
  | 'memory-bound' | 'instance-not-ready' | 'shutdown-hung'

export interface Violation {
  kind: ViolationKind
  member?: string
  room?: string
  detail: string
}
