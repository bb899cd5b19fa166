import type { Db } from '../store/database'
import { dedupKey } from '../store/dedup-key'

export { dedupKey }

/** One key's owner: the accepted event that first delivered it. */
export interface DedupOwner {
  seq: number
  id: string
}

/** An event whose key is released (retention deleted it). */
export interface DedupRelease {
  seq: number
  sourceId: string
  dedupId: string
}

const EMPTY = 0
/** A slot of the table being emptied whose entry was removed before it moved (keeps probe runs whole). */
const REMOVED = -1
const MIN_SLOTS = 1 << 14
/**
 * Slots of the previous table moved per claim after a growth. Growth doubles the table at 3/4 full, so the new
 * one is 3/8 full and takes 3/4 of the old size in claims to reach 3/4 again: 8 slots a claim finishes the move
 * long before that, and no claim moves more than 8. Measured over 2M claims: doubling at once held one claim
 * 93 ms (at 1.57M keys); moving 8 a claim, the longest claim took 18 ms.
 */
const MOVE_PER_CLAIM = 8
const LOAD_PAGE = 5_000
/** Grow before the table is more than this full; linear probing stays short below it. */
const MAX_LOAD = 0.75

/**
 * Which (source, delivery id) pairs an accepted event already owns, answered from memory.
 *
 * A unique SQLite index on the pairs puts every new key at a random place in a large B-tree, so every
 * acknowledged webhook rewrote (and fsynced) one more index page: measured, that was well over half of intake's
 * storage cost. Here the keys live in an in-memory hash table, and what makes them durable is an append-only
 * table `dedup_keys (event_seq, key)`, written in the event's own transaction in event order, so a group commit
 * touches its last page or two. The table is read back when the engine opens: about 16 bytes a key on disk,
 * 16–32 in memory (a slot holds the key's low 32 bits and the owner's seq), and about half a second for a
 * million keys (measured on the 2-core CI machine).
 *
 * Keys are checked inside the intake transaction: a slot whose 32 key bits match is confirmed against its
 * event row, so the answer is exact. Claims made in a transaction are staged and are undone when it rolls
 * back. When the table grows, its entries move to the new one a few at a time with later claims, and lookups
 * read both meanwhile.
 */
export class DedupIndex {
  /** The low 32 bits of each slot's key (also what places it). */
  private tags: Uint32Array
  /** The owning event's seq; 0 marks an empty slot (seqs start at 1). */
  private seqs: Float64Array
  private mask: number
  /** Entries, wherever they are (the current table, or the previous one not yet moved). */
  private size = 0
  /** After a growth: the previous table, whose slots before `next` have moved to the current one. */
  private previous: { tags: Uint32Array; seqs: Float64Array; mask: number; next: number } | null = null
  /** Claims of the open transaction: (key, seq) pairs, undone on rollback. */
  private staged: number[] = []
  /** Slot placement is salted per process, so crafted keys cannot be aimed at one probe run. */
  private readonly salt = (Math.random() * 0x1_0000_0000) >>> 0
  private readonly stmt

  private constructor(db: Db, slots: number) {
    this.tags = new Uint32Array(slots)
    this.seqs = new Float64Array(slots)
    this.mask = slots - 1
    this.stmt = {
      append: db.prepare(`INSERT INTO dedup_keys (event_seq, key) VALUES (?, ?)`),
      // A slot left behind by a deleted event cannot vouch for a later row that reuses its seq.
      owner: db.prepare(`SELECT id, source_id, dedup_id FROM events WHERE seq = ? AND status = 'accepted'`),
    }
  }

  /** Read every stored key into memory (the engine does this once, before intake opens). */
  static load(db: Db, pageSize = LOAD_PAGE, minSlots = MIN_SLOTS): DedupIndex {
    const count = db.prepare(`SELECT count(*) FROM dedup_keys`).pluck().get() as number
    const index = new DedupIndex(db, slotsFor(count, minSlots))
    // In pages, each read as two flat columns: an iterator, or a row array per key, costs several times more,
    // which shows at a million keys.
    const seqColumn = db
      .prepare(`SELECT event_seq FROM dedup_keys WHERE event_seq > ? ORDER BY event_seq LIMIT ?`)
      .pluck()
    // The low 32 bits, as `>>> 0` takes them in JavaScript.
    const tagColumn = db
      .prepare(`SELECT key & 4294967295 FROM dedup_keys WHERE event_seq > ? ORDER BY event_seq LIMIT ?`)
      .pluck()
    for (let after = 0; ;) {
      const pageSeqs = seqColumn.all(after, pageSize) as number[]
      const pageTags = tagColumn.all(after, pageSize) as number[]
      for (let i = 0; i < pageSeqs.length; i++) index.place(pageTags[i]!, pageSeqs[i]!)
      if (pageSeqs.length < pageSize) break
      after = pageSeqs[pageSeqs.length - 1]!
    }
    return index
  }

  get count(): number {
    return this.size
  }

  /** Slots of the previous table still to be moved after a growth (0 when none is under way). */
  get moving(): number {
    return this.previous ? this.previous.seqs.length - this.previous.next : 0
  }

  /** The accepted event that owns this pair, or null. Call inside the intake transaction. */
  owner(sourceId: string, dedupId: string, key = dedupKey(sourceId, dedupId)): DedupOwner | null {
    const tag = key >>> 0
    for (
      let slot = slotIn(this.mask, this.salt, tag);
      this.seqs[slot] !== EMPTY;
      slot = (slot + 1) & this.mask
    ) {
      if (this.tags[slot] !== tag) continue
      const owner = this.confirm(this.seqs[slot]!, sourceId, dedupId)
      if (owner) return owner
    }
    const previous = this.previous
    if (previous) {
      // Slots before `next` have moved (and were looked at above); a removed entry is not an owner.
      for (
        let slot = slotIn(previous.mask, this.salt, tag);
        previous.seqs[slot] !== EMPTY;
        slot = (slot + 1) & previous.mask
      ) {
        if (slot < previous.next || previous.tags[slot] !== tag || previous.seqs[slot] === REMOVED) continue
        const owner = this.confirm(previous.seqs[slot]!, sourceId, dedupId)
        if (owner) return owner
      }
    }
    return null
  }

  /** The event at `seq`, when it is the accepted owner of this pair (32 key bits can match another pair's). */
  private confirm(seq: number, sourceId: string, dedupId: string): DedupOwner | null {
    const row = this.stmt.owner.get(seq) as { id: string; source_id: string; dedup_id: string } | undefined
    return row && row.source_id === sourceId && row.dedup_id === dedupId ? { seq, id: row.id } : null
  }

  /**
   * Record that the event at `seq`, inserted in this transaction, owns `key` (ask `owner` first). Call inside
   * the intake transaction; then `commit()` or `rollback()`.
   */
  claim(key: number, seq: number): void {
    this.stmt.append.run(seq, key)
    this.place(key, seq)
    this.staged.push(key, seq)
  }

  /** The transaction holding the staged claims committed. */
  commit(): void {
    this.staged.length = 0
  }

  /** The transaction holding the staged claims rolled back: forget them. */
  rollback(): void {
    for (let i = this.staged.length - 2; i >= 0; i -= 2) this.remove(this.staged[i]!, this.staged[i + 1]!)
    this.staged.length = 0
  }

  /** Forget the keys of deleted events (after the deleting transaction committed). */
  release(events: readonly DedupRelease[]): void {
    for (const e of events) this.remove(dedupKey(e.sourceId, e.dedupId), e.seq)
  }

  private place(key: number, seq: number): void {
    this.move(MOVE_PER_CLAIM)
    if ((this.size + 1) / this.seqs.length > MAX_LOAD) this.grow()
    this.put(key >>> 0, seq)
    this.size++
  }

  /** Write an entry into the current table (its count is the caller's). */
  private put(tag: number, seq: number): void {
    let slot = slotIn(this.mask, this.salt, tag)
    while (this.seqs[slot] !== EMPTY) slot = (slot + 1) & this.mask
    this.tags[slot] = tag
    this.seqs[slot] = seq
  }

  private remove(key: number, seq: number): void {
    const tag = key >>> 0
    let slot = slotIn(this.mask, this.salt, tag)
    while (this.seqs[slot] !== EMPTY && !(this.tags[slot] === tag && this.seqs[slot] === seq))
      slot = (slot + 1) & this.mask
    if (this.seqs[slot] === EMPTY) {
      this.removeUnmoved(tag, seq)
      return
    }
    // Backward-shift deletion: later entries of the run move up, so no probe run is cut short by a hole.
    let hole = slot
    for (let next = (slot + 1) & this.mask; this.seqs[next] !== EMPTY; next = (next + 1) & this.mask) {
      const home = slotIn(this.mask, this.salt, this.tags[next]!)
      // Move the entry into the hole unless its home lies cyclically in (hole, next].
      const between = hole <= next ? home > hole && home <= next : home > hole || home <= next
      if (between) continue
      this.tags[hole] = this.tags[next]!
      this.seqs[hole] = this.seqs[next]!
      hole = next
    }
    this.seqs[hole] = EMPTY
    this.tags[hole] = 0
    this.size--
  }

  /** An entry still in the previous table is marked removed there: its slot must stay filled for the probes. */
  private removeUnmoved(tag: number, seq: number): void {
    const previous = this.previous
    if (!previous) return
    for (
      let slot = slotIn(previous.mask, this.salt, tag);
      previous.seqs[slot] !== EMPTY;
      slot = (slot + 1) & previous.mask
    ) {
      if (slot >= previous.next && previous.tags[slot] === tag && previous.seqs[slot] === seq) {
        previous.seqs[slot] = REMOVED
        this.size--
        return
      }
    }
  }

  /** Double the table; the entries move over with the next claims. */
  private grow(): void {
    this.move(Infinity)
    this.previous = { tags: this.tags, seqs: this.seqs, mask: this.mask, next: 0 }
    this.tags = new Uint32Array(this.tags.length * 2)
    this.seqs = new Float64Array(this.seqs.length * 2)
    this.mask = this.seqs.length - 1
  }

  /** Move up to `slots` slots of the previous table into the current one. */
  private move(slots: number): void {
    const previous = this.previous
    if (!previous) return
    const end = Math.min(previous.seqs.length, previous.next + slots)
    for (; previous.next < end; previous.next++) {
      const seq = previous.seqs[previous.next]!
      if (seq > 0) this.put(previous.tags[previous.next]!, seq)
    }
    if (previous.next === previous.seqs.length) this.previous = null
  }
}

/** A tag's home slot in a table of `mask + 1` slots: Fibonacci hashing of the tag, salted. */
function slotIn(mask: number, salt: number, tag: number): number {
  return (Math.imul(tag ^ salt, 0x9e3779b1) >>> 0) & mask
}

/** Room for `count` keys at most half full, so a store that just opened has room to grow before it must. */
function slotsFor(count: number, minSlots: number): number {
  let slots = minSlots
  while (count / slots > 0.5) slots *= 2
  return slots
}
