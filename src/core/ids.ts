import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
let lastTime = 0
let lastRandom: Buffer = Buffer.alloc(10)

/**
 * A sortable unique id: `prefix_` + 10 chars of time + 16 chars of randomness (Crockford base32, lower case).
 * Ids made in the same millisecond increase, so the order of creation is the order of ids.
 */
export function newId(prefix: string, now = Date.now()): string {
  let random: Buffer
  if (now <= lastTime) {
    random = Buffer.from(lastRandom)
    for (let i = random.length - 1; i >= 0; i--) {
      if (random[i]! < 255) {
        random[i]!++
        break
      }
      random[i] = 0
    }
    now = lastTime
  } else {
    random = randomBytes(10)
  }
  lastTime = now
  lastRandom = random
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time
    t = Math.floor(t / 32)
  }
  let rand = ''
  let bits = 0
  let value = 0
  for (const byte of random) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      rand += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  return `${prefix}_${time}${rand}`
}
