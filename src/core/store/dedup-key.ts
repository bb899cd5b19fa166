import { hash } from 'node:crypto'

/**
 * The 53-bit key of a (source, delivery id) pair: the first bits of its SHA-256, as an integer that SQLite and
 * JavaScript both hold exactly. Pairs that share a key are told apart by reading the owning event's row.
 */
export function dedupKey(sourceId: string, dedupId: string): number {
  const digest = hash('sha256', `${sourceId}\0${dedupId}`, 'buffer')
  return (digest.readUInt32BE(0) & 0x1fffff) * 0x1_0000_0000 + digest.readUInt32BE(4)
}
