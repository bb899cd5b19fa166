import '@shopify/shopify-api/adapters/node'
import { describe, expect, it } from 'vitest'
import { ApiVersion, shopifyApi } from '@shopify/shopify-api'
import { shopify } from '../../../src/core/providers/shopify'
import { bodyHmacHeader } from '../../fixtures/signers/hmac'
import {
  behavesLikeASignedPreset,
  context,
  expectAccepted,
  expectRejected,
  fromSample,
  inbound,
  parsedJson,
} from './harness'

const body = Buffer.from(JSON.stringify({ id: 820982911946, email: 'jon@example.com', total_price: '9.99' }))

function signed(secret: string, _now: number, payload: Buffer, prefix = 'x-shopify-') {
  return inbound({
    headers: {
      'content-type': 'application/json',
      [`${prefix}topic`]: 'orders/create',
      [`${prefix}shop-domain`]: 'example.myshopify.com',
      [`${prefix}api-version`]: '2025-10',
      [`${prefix}webhook-id`]: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      [`${prefix}event-id`]: '98880550-7158-44d4-b7cd-2c97c8a091b5',
      [`${prefix}hmac-sha256`]: bodyHmacHeader(secret, payload, 'sha256', 'base64'),
    },
    body: payload,
  })
}

describe('shopify preset', () => {
  behavesLikeASignedPreset({ provider: shopify, body, sign: signed })

  it('also reads the unprefixed Shopify-* headers of event deliveries', () => {
    const req = signed('k', 0, body, 'shopify-')
    expectAccepted(shopify, req, context({ secrets: ['k'] }))
    expect(shopify.dedupId(req, parsedJson(req))).toBe('b54557e4-bdd9-4b37-8a5f-bf7d70bcd043')
    expect(shopify.eventType(req, parsedJson(req))).toBe('orders/create')
  })

  it('dedups on X-Shopify-Webhook-Id and types by X-Shopify-Topic', () => {
    const req = signed('k', 0, body)
    expect(shopify.dedupId(req, parsedJson(req))).toBe('b54557e4-bdd9-4b37-8a5f-bf7d70bcd043')
    expect(shopify.eventType(req, parsedJson(req))).toBe('orders/create')
  })

  it('agrees with @shopify/shopify-api on valid and tampered requests', async () => {
    const api = shopifyApi({
      apiKey: 'key',
      apiSecretKey: 'k',
      hostName: 'switchboard.example',
      apiVersion: ApiVersion.October25,
      isEmbeddedApp: false,
      logger: { level: 0 },
    })
    const validate = (req: ReturnType<typeof signed>) =>
      api.webhooks.validate({
        rawBody: req.body.toString(),
        rawRequest: { headers: req.headers, method: 'POST', url: '/hooks/src1' } as never,
        rawResponse: {} as never,
      })
    const good = signed('k', 0, body)
    expect((await validate(good)).valid).toBe(true)
    const bad = { ...good, body: Buffer.from(good.body.toString().replace('9.99', '0.01')) }
    expect((await validate(bad)).valid).toBe(false)
    expectRejected(shopify, bad, context({ secrets: ['k'] }))
    const sample = fromSample(shopify, context({ secrets: ['k'] }))
    expect(await validate(sample)).toMatchObject({ valid: true, topic: 'ORDERS_CREATE' })
  })
})
