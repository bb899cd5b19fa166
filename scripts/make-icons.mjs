#!/usr/bin/env node
// Draws Switchboard's icons (app icon, tray icons, macOS template tray icons) and writes them as PNGs into
// resources/. Run `node scripts/make-icons.mjs` after changing the drawing; the PNGs are committed.
// electron-builder derives .icns/.ico from resources/icon.png (1024x1024).
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'

const OUT = join(dirname(fileURLToPath(import.meta.url)), '..', 'resources')

// ---- PNG encoding (RGBA, 8 bits per channel) ----
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32(buf) {
  let c = 0xffffffff
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk(type, data) {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'ascii')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}
function encodePng(width, height, rgba) {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 6 // RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0 // filter: none
    rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

// ---- A tiny rasterizer: shapes are signed distance functions in unit coordinates (0..1) ----
const roundedRect = (cx, cy, hw, hh, r) => (x, y) => {
  const qx = Math.abs(x - cx) - hw + r
  const qy = Math.abs(y - cy) - hh + r
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r
}
const circle = (cx, cy, r) => (x, y) => Math.hypot(x - cx, y - cy) - r
const ring = (cx, cy, r, w) => (x, y) => Math.abs(Math.hypot(x - cx, y - cy) - r) - w / 2
const capsule = (ax, ay, bx, by, w) => (x, y) => {
  const px = x - ax
  const py = y - ay
  const dx = bx - ax
  const dy = by - ay
  const t = Math.max(0, Math.min(1, (px * dx + py * dy) / (dx * dx + dy * dy)))
  return Math.hypot(px - dx * t, py - dy * t) - w / 2
}

/** Paint layers ({shape, color:[r,g,b,a]}) back to front with 4x4 supersampling. */
function render(size, layers) {
  const out = Buffer.alloc(size * size * 4)
  const S = 4
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0
      let g = 0
      let b = 0
      let a = 0
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const x = (px + (sx + 0.5) / S) / size
          const y = (py + (sy + 0.5) / S) / size
          let cr = 0
          let cg = 0
          let cb = 0
          let ca = 0
          for (const { shape, color } of layers) {
            if (shape(x, y) > 0) continue
            const la = color[3] / 255
            cr = color[0] * la + cr * (1 - la)
            cg = color[1] * la + cg * (1 - la)
            cb = color[2] * la + cb * (1 - la)
            ca = la + ca * (1 - la)
          }
          r += cr
          g += cg
          b += cb
          a += ca
        }
      }
      const n = S * S
      const i = (py * size + px) * 4
      const alpha = a / n
      out[i] = alpha ? Math.round(r / n / alpha) : 0
      out[i + 1] = alpha ? Math.round(g / n / alpha) : 0
      out[i + 2] = alpha ? Math.round(b / n / alpha) : 0
      out[i + 3] = Math.round(alpha * 255)
    }
  }
  return out
}

// The glyph: three lines of a switchboard, the middle one patched across to another row.
function glyph(color, { scale = 1, stroke = 0.06 } = {}) {
  const s = (v) => 0.5 + (v - 0.5) * scale
  const w = stroke * scale
  const jack = 0.07 * scale
  return [
    { shape: capsule(s(0.3), s(0.3), s(0.7), s(0.3), w), color },
    { shape: capsule(s(0.3), s(0.5), s(0.7), s(0.7), w), color },
    { shape: capsule(s(0.3), s(0.7), s(0.46), s(0.7), w), color },
    { shape: circle(s(0.25), s(0.3), jack), color },
    { shape: circle(s(0.25), s(0.5), jack), color },
    { shape: circle(s(0.25), s(0.7), jack), color },
    { shape: ring(s(0.75), s(0.3), jack * 0.8, w * 0.8), color },
    { shape: ring(s(0.75), s(0.5), jack * 0.8, w * 0.8), color },
    { shape: ring(s(0.75), s(0.7), jack * 0.8, w * 0.8), color },
  ]
}

const GREEN = [74, 222, 128, 255]
const RED = [239, 68, 68, 255]
const BLACK = [0, 0, 0, 255]
const badge = (color) => ({ shape: circle(0.84, 0.16, 0.15), color })

const files = {
  'icon.png': [
    1024,
    [
      { shape: roundedRect(0.5, 0.5, 0.43, 0.43, 0.2), color: [20, 24, 31, 255] },
      ...glyph(GREEN, { scale: 0.78 }),
    ],
  ],
  'tray.png': [16, glyph(GREEN, { scale: 1.15, stroke: 0.1 })],
  'tray@2x.png': [32, glyph(GREEN, { scale: 1.15, stroke: 0.09 })],
  'tray-alert.png': [16, [...glyph(GREEN, { scale: 1.15, stroke: 0.1 }), badge(RED)]],
  'tray-alert@2x.png': [32, [...glyph(GREEN, { scale: 1.15, stroke: 0.09 }), badge(RED)]],
  // macOS menu bar: "Template" images are black + alpha; the system tints them for light and dark bars.
  'trayTemplate.png': [16, glyph(BLACK, { scale: 1.15, stroke: 0.1 })],
  'trayTemplate@2x.png': [32, glyph(BLACK, { scale: 1.15, stroke: 0.09 })],
  'trayAlertTemplate.png': [16, [...glyph(BLACK, { scale: 1.15, stroke: 0.1 }), badge(BLACK)]],
  'trayAlertTemplate@2x.png': [32, [...glyph(BLACK, { scale: 1.15, stroke: 0.09 }), badge(BLACK)]],
}

mkdirSync(OUT, { recursive: true })
for (const [name, [size, layers]] of Object.entries(files)) {
  writeFileSync(join(OUT, name), encodePng(size, size, render(size, layers)))
  console.log(`resources/${name} ${size}x${size}`)
}
