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
const MIN_SLOTS = 1 << 14
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
 * back.
 */
export class DedupIndex {
  /** The low 32 bits of each slot's key (also what places it). */
  private tags: Uint32Array
  /** The owning event's seq; 0 marks an empty slot (seqs start at 1). */
  private seqs: Float64Array
  private mask: number
  private size = 0
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
  static load(db: Db, pageSize = LOAD_PAGE): DedupIndex {
    const count = db.prepare(`SELECT count(*) FROM dedup_keys`).pluck().get() as number
    const index = new DedupIndex(db, slotsFor(count))
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

  /** The accepted event that owns this pair, or null. Call inside the intake transaction. */
  owner(sourceId: string, dedupId: string, key = dedupKey(sourceId, dedupId)): DedupOwner | null {
    const tag = key >>> 0
    for (let slot = this.slotOf(tag); this.seqs[slot] !== EMPTY; slot = (slot + 1) & this.mask) {
      if (this.tags[slot] !== tag) continue
      const seq = this.seqs[slot]!
      const row = this.stmt.owner.get(seq) as { id: string; source_id: string; dedup_id: string } | undefined
      if (row && row.source_id === sourceId && row.dedup_id === dedupId) return { seq, id: row.id }
    }
    return null
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

  private slotOf(tag: number): number {
    // Fibonacci hashing of the tag, salted.
    return (Math.imul(tag ^ this.salt, 0x9e3779b1) >>> 0) & this.mask
  }

  private place(key: number, seq: number): void {
    if ((this.size + 1) / this.seqs.length > MAX_LOAD) this.grow()
    const tag = key >>> 0
    let slot = this.slotOf(tag)
    while (this.seqs[slot] !== EMPTY) slot = (slot + 1) & this.mask
    this.tags[slot] = tag
    this.seqs[slot] = seq
    this.size++
  }

  private remove(key: number, seq: number): void {
    const tag = key >>> 0
    let slot = this.slotOf(tag)
    while (this.seqs[slot] !== EMPTY && !(this.tags[slot] === tag && this.seqs[slot] === seq))
      slot = (slot + 1) & this.mask
    if (this.seqs[slot] === EMPTY) return
    // Backward-shift deletion: later entries of the run move up, so no probe run is cut short by a hole.
    let hole = slot
    for (let next = (slot + 1) & this.mask; this.seqs[next] !== EMPTY; next = (next + 1) & this.mask) {
      const home = this.slotOf(this.tags[next]!)
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

  private grow(): void {
    const tags = this.tags
    const seqs = this.seqs
    this.tags = new Uint32Array(tags.length * 2)
    this.seqs = new Float64Array(seqs.length * 2)
    this.mask = this.seqs.length - 1
    this.size = 0
    for (let i = 0; i < seqs.length; i++) if (seqs[i] !== EMPTY) this.place(tags[i]!, seqs[i]!)
  }
}

/** Room for `count` keys at most half full, so a store that just opened has room to grow before it must. */
function slotsFor(count: number): number {
  let slots = MIN_SLOTS
  while (count / slots > 0.5) slots *= 2
  return slots
}
