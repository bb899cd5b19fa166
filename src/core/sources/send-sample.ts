import { request } from 'node:http'
import type { RuntimeSource } from './source-store'

/**
 * "Send a test event": the preset's correctly signed sample, sent over a real socket to the local receiver,
 * so it goes through exactly what a provider's delivery goes through.
 */
export function sendSample(
  receiverBase: string,
  source: RuntimeSource,
): Promise<{ status: number; body: unknown; eventId: string | null }> {
  const sample = source.provider.sample(source.ctx)
  const url = new URL(`${receiverBase}/hooks/${encodeURIComponent(source.id)}${sample.pathSuffix ?? ''}`)
  if (sample.query) url.search = sample.query
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: sample.method, headers: { ...sample.headers, 'content-length': String(sample.body.length) } },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          let body: unknown = text
          try {
            body = JSON.parse(text)
          } catch {
            // Handshake answers may be plain text.
          }
          const eventId =
            body && typeof body === 'object' && typeof (body as { id?: unknown }).id === 'string'
              ? (body as { id: string }).id
              : null
          resolve({ status: res.statusCode ?? 0, body, eventId })
        })
        res.on('error', reject)
      },
    )
    req.setTimeout(10_000, () => req.destroy(new Error('test event timed out')))
    req.on('error', reject)
    req.end(sample.body)
  })
}
