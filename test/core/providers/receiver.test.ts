import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sign as githubSign } from '@octokit/webhooks-methods'
import { Signature } from '@hubspot/api-client'
import Stripe from 'stripe'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { Webhook as SvixWebhook } from 'svix'
import twilioLib from 'twilio'
import { FakeClock } from '../../../src/core/clock'
import type { ProviderId } from '../../../src/shared/domain'
import { PROVIDER_IDS } from '../../../src/shared/domain'
import { startTestEngine, type TestEngine } from '../../support/engine'
import { http } from '../../support/http'
import {
  bodyHmacHeader,
  calendlyHeader,
  trelloHeader,
  v0Header,
  zoomEncryptedToken,
} from '../../fixtures/signers/hmac'
import { NOW, NOW_S } from './harness'

/**
 * Every preset through the real engine and HTTP receiver on 127.0.0.1: valid deliveries (signed by the
 * official package where there is one, else by the independent signers) answer 200 and are stored; bad ones
 * answer 401 and are stored as rejected; a retried delivery answers duplicate: true; handshakes answer what
 * the provider expects.
 */

interface Req {
  method?: string
  suffix?: string
  query?: string
  headers: Record<string, string>
  body?: string | Buffer
}

interface Case {
  provider: ProviderId
  secret?: string
  options?: Record<string, unknown>
  /** A delivery with provider delivery id `id`, signed at `at` (ms); called twice for the retry. */
  valid(id: string, at: number): Req | Promise<Req>
  type: string
  /** Requests that must be refused with 401 (reason for the label). */
  bad(id: string): Record<string, Req | Promise<Req>>
  /** A handshake and what must come back (before the deliveries). */
  handshake?: { request: Req; status: number; headers?: Record<string, string>; body?: string }
}

const PUBLIC_BASE = 'https://switchboard-test.loca.lt'
const OLD = NOW - 10 * 60_000
const AHEAD = NOW + 10 * 60_000
/** The same request with its (JSON) body changed in a way that keeps it valid JSON. */
const tamper = (r: Req): Req => {
  const body = String(r.body).replace(':', ': ')
  if (body === String(r.body)) throw new Error('tamper needs a JSON body')
  return { ...r, body }
}
const json = (value: unknown) => JSON.stringify(value)
const stripe = new Stripe('sk_test_switchboard')
const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const SW_OTHER = 'whsec_' + Buffer.from('another-secret-key-of-32-bytes!!').toString('base64')

function standardWebhook(
  prefix: 'webhook' | 'svix',
  secret: string,
  id: string,
  at: number,
  body: string,
): Req {
  const Lib = prefix === 'svix' ? SvixWebhook : StandardWebhook
  return {
    headers: {
      'content-type': 'application/json',
      [`${prefix}-id`]: id,
      [`${prefix}-timestamp`]: String(Math.floor(at / 1000)),
      [`${prefix}-signature`]: new Lib(secret).sign(id, new Date(at), body),
    },
    body,
  }
}

function bodySigned(
  headers: Record<string, string>,
  body: string,
  sigHeader: string,
  signature: string,
): Req {
  return { headers: { 'content-type': 'application/json', ...headers, [sigHeader]: signature }, body }
}

const cases: Case[] = [
  ...(['webhook', 'svix'] as const).map((prefix): Case => ({
    provider: prefix === 'svix' ? 'svix' : 'standard-webhooks',
    secret: SW_SECRET,
    type: 'invoice.paid',
    valid: (id, at) => standardWebhook(prefix, SW_SECRET, id, at, json({ type: 'invoice.paid', n: 1 })),
    bad: (id) => ({
      'wrong secret': standardWebhook(prefix, SW_OTHER, id, NOW, json({ type: 'invoice.paid' })),
      'tampered body': tamper(standardWebhook(prefix, SW_SECRET, id, NOW, json({ type: 'invoice.paid' }))),
      'stale timestamp': standardWebhook(prefix, SW_SECRET, id, OLD, json({ type: 'invoice.paid' })),
      'future timestamp': standardWebhook(prefix, SW_SECRET, id, AHEAD, json({ type: 'invoice.paid' })),
    }),
  })),
  {
    provider: 'github',
    secret: 'gh-secret',
    type: 'issues.opened',
    async valid(id) {
      const body = json({ action: 'opened', issue: { number: 1 } })
      return bodySigned(
        { 'x-github-event': 'issues', 'x-github-delivery': id },
        body,
        'x-hub-signature-256',
        await githubSign('gh-secret', body),
      )
    },
    bad: (id) => {
      const body = json({ action: 'opened' })
      const headers = { 'x-github-event': 'issues', 'x-github-delivery': id }
      return {
        'wrong secret': githubSign('other', body).then((s) =>
          bodySigned(headers, body, 'x-hub-signature-256', s),
        ),
        'tampered body': githubSign('gh-secret', body).then((s) =>
          tamper(bodySigned(headers, body, 'x-hub-signature-256', s)),
        ),
      }
    },
  },
  {
    provider: 'stripe',
    secret: 'whsec_stripe_literal',
    type: 'charge.succeeded',
    valid(id, at) {
      const body = json({ id, object: 'event', type: 'charge.succeeded' })
      const header = stripe.webhooks.generateTestHeaderString({
        payload: body,
        secret: 'whsec_stripe_literal',
        timestamp: Math.floor(at / 1000),
      })
      return bodySigned({}, body, 'stripe-signature', header)
    },
    bad(id) {
      const body = json({ id, object: 'event', type: 'charge.succeeded' })
      const at = (secret: string, ms: number) =>
        bodySigned(
          {},
          body,
          'stripe-signature',
          stripe.webhooks.generateTestHeaderString({
            payload: body,
            secret,
            timestamp: Math.floor(ms / 1000),
          }),
        )
      return {
        'wrong secret': at('whsec_other', NOW),
        'tampered body': tamper(at('whsec_stripe_literal', NOW)),
        'stale timestamp': at('whsec_stripe_literal', OLD),
        'future timestamp': at('whsec_stripe_literal', AHEAD),
      }
    },
  },
  {
    provider: 'slack',
    secret: 'slack-signing',
    type: 'app_mention',
    valid(id, at) {
      const body = json({ type: 'event_callback', event_id: id, event: { type: 'app_mention' } })
      const ts = Math.floor(at / 1000)
      return bodySigned(
        { 'x-slack-request-timestamp': String(ts) },
        body,
        'x-slack-signature',
        v0Header('slack-signing', ts, body),
      )
    },
    bad(id) {
      const body = json({ type: 'event_callback', event_id: id, event: { type: 'app_mention' } })
      const at = (secret: string, ms: number) =>
        bodySigned(
          { 'x-slack-request-timestamp': String(Math.floor(ms / 1000)) },
          body,
          'x-slack-signature',
          v0Header(secret, Math.floor(ms / 1000), body),
        )
      return {
        'wrong secret': at('other', NOW),
        'tampered body': tamper(at('slack-signing', NOW)),
        'stale timestamp': at('slack-signing', OLD),
        'future timestamp': at('slack-signing', AHEAD),
        'unsigned url_verification': {
          headers: { 'content-type': 'application/json' },
          body: json({ type: 'url_verification', challenge: 'x' }),
        },
      }
    },
    handshake: {
      request: (() => {
        const body = json({
          token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
          challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
          type: 'url_verification',
        })
        return bodySigned(
          { 'x-slack-request-timestamp': String(NOW_S) },
          body,
          'x-slack-signature',
          v0Header('slack-signing', NOW_S, body),
        )
      })(),
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
    },
  },
  {
    provider: 'linear',
    secret: 'lin-secret',
    type: 'Issue.create',
    valid(id, at) {
      const body = json({ action: 'create', type: 'Issue', data: { id: 'i1' }, webhookTimestamp: at })
      return bodySigned(
        { 'linear-delivery': id, 'linear-event': 'Issue' },
        body,
        'linear-signature',
        bodyHmacHeader('lin-secret', body, 'sha256', 'hex'),
      )
    },
    bad(id) {
      const at = (secret: string, ms: number) => {
        const body = json({ action: 'create', type: 'Issue', webhookTimestamp: ms })
        return bodySigned(
          { 'linear-delivery': id },
          body,
          'linear-signature',
          bodyHmacHeader(secret, body, 'sha256', 'hex'),
        )
      }
      return {
        'wrong secret': at('other', NOW),
        'tampered body': tamper(at('lin-secret', NOW)),
        'stale timestamp': at('lin-secret', NOW - 61_000),
        'future timestamp': at('lin-secret', NOW + 61_000),
      }
    },
  },
  ...(
    [
      [
        'jira',
        'x-hub-signature',
        'sha256',
        'hex',
        'sha256=',
        'x-atlassian-webhook-identifier',
        { webhookEvent: 'jira:issue_updated' },
        'jira:issue_updated',
      ],
      [
        'todoist',
        'x-todoist-hmac-sha256',
        'sha256',
        'base64',
        '',
        'x-todoist-delivery-id',
        { event_name: 'item:added' },
        'item:added',
      ],
      [
        'cal-com',
        'x-cal-signature-256',
        'sha256',
        'hex',
        '',
        null,
        { triggerEvent: 'BOOKING_CREATED' },
        'BOOKING_CREATED',
      ],
      [
        'shopify',
        'x-shopify-hmac-sha256',
        'sha256',
        'base64',
        '',
        'x-shopify-webhook-id',
        { total_price: '1.00' },
        'orders/create',
      ],
    ] as const
  ).map(([provider, sigHeader, algorithm, encoding, prefix, idHeader, fields, type]): Case => {
    const request = (secret: string, id: string) => {
      const body = json({ ...fields, payload: { uid: id } })
      const headers: Record<string, string> =
        provider === 'shopify' ? { 'x-shopify-topic': 'orders/create' } : {}
      if (idHeader) headers[idHeader] = id
      return bodySigned(headers, body, sigHeader, bodyHmacHeader(secret, body, algorithm, encoding, prefix))
    }
    return {
      provider,
      secret: `${provider}-secret`,
      type,
      valid: (id) => request(`${provider}-secret`, id),
      bad: (id) => ({
        'wrong secret': request('other', id),
        'tampered body': tamper(request(`${provider}-secret`, id)),
      }),
    }
  }),
  {
    provider: 'asana',
    type: 'task.changed',
    handshake: {
      request: { headers: { 'x-hook-secret': 'asana-handed-over' } },
      status: 200,
      headers: { 'x-hook-secret': 'asana-handed-over' },
    },
    valid(id) {
      const body = json({ events: [{ action: 'changed', resource: { gid: id, resource_type: 'task' } }] })
      return bodySigned(
        {},
        body,
        'x-hook-signature',
        bodyHmacHeader('asana-handed-over', body, 'sha256', 'hex'),
      )
    },
    bad(id) {
      const body = json({ events: [{ action: 'changed', resource: { gid: id, resource_type: 'task' } }] })
      return {
        'wrong secret': bodySigned(
          {},
          body,
          'x-hook-signature',
          bodyHmacHeader('other', body, 'sha256', 'hex'),
        ),
        'tampered body': tamper(
          bodySigned(
            {},
            body,
            'x-hook-signature',
            bodyHmacHeader('asana-handed-over', body, 'sha256', 'hex'),
          ),
        ),
        'second X-Hook-Secret': { headers: { 'x-hook-secret': 'attacker' } },
      }
    },
  },
  {
    provider: 'trello',
    secret: 'trello-app-secret',
    options: { publicUrl: `${PUBLIC_BASE}/hooks/trello-src` },
    type: 'createCard',
    handshake: { request: { method: 'HEAD', headers: {} }, status: 200 },
    valid(id) {
      const body = json({ action: { id, type: 'createCard' } })
      return bodySigned(
        {},
        body,
        'x-trello-webhook',
        trelloHeader('trello-app-secret', body, `${PUBLIC_BASE}/hooks/trello-src`),
      )
    },
    bad(id) {
      const body = json({ action: { id, type: 'createCard' } })
      const signed = (secret: string, url: string) =>
        bodySigned({}, body, 'x-trello-webhook', trelloHeader(secret, body, url))
      return {
        'wrong secret': signed('other', `${PUBLIC_BASE}/hooks/trello-src`),
        'tampered body': tamper(signed('trello-app-secret', `${PUBLIC_BASE}/hooks/trello-src`)),
        'wrong URL': signed('trello-app-secret', 'https://elsewhere.example/hooks/trello-src'),
      }
    },
  },
  {
    provider: 'notion',
    type: 'page.created',
    handshake: {
      request: {
        headers: { 'content-type': 'application/json' },
        body: json({ verification_token: 'secret_notion_token' }),
      },
      status: 200,
    },
    valid(id) {
      const body = json({ id, type: 'page.created', attempt_number: 1 })
      return bodySigned(
        {},
        body,
        'x-notion-signature',
        bodyHmacHeader('secret_notion_token', body, 'sha256', 'hex', 'sha256='),
      )
    },
    bad(id) {
      const body = json({ id, type: 'page.created' })
      return {
        'wrong secret': bodySigned(
          {},
          body,
          'x-notion-signature',
          bodyHmacHeader('other', body, 'sha256', 'hex', 'sha256='),
        ),
        'tampered body': tamper(
          bodySigned(
            {},
            body,
            'x-notion-signature',
            bodyHmacHeader('secret_notion_token', body, 'sha256', 'hex', 'sha256='),
          ),
        ),
      }
    },
  },
  {
    provider: 'google-calendar',
    options: { channelToken: 'goog-token' },
    type: 'exists',
    handshake: {
      request: {
        headers: {
          'x-goog-channel-id': 'ch1',
          'x-goog-channel-token': 'goog-token',
          'x-goog-message-number': '1',
          'x-goog-resource-state': 'sync',
        },
      },
      status: 200,
    },
    valid: (id) => ({
      headers: {
        'x-goog-channel-id': 'ch1',
        'x-goog-channel-token': 'goog-token',
        'x-goog-message-number': id.replace(/\D/g, '') || '2',
        'x-goog-resource-state': 'exists',
      },
    }),
    bad: () => ({
      'wrong token': {
        headers: {
          'x-goog-channel-id': 'ch1',
          'x-goog-channel-token': 'guess',
          'x-goog-message-number': '9',
          'x-goog-resource-state': 'exists',
        },
      },
      'wrong-token sync': {
        headers: {
          'x-goog-channel-id': 'ch1',
          'x-goog-channel-token': 'guess',
          'x-goog-message-number': '1',
          'x-goog-resource-state': 'sync',
        },
      },
    }),
  },
  {
    provider: 'microsoft-graph',
    secret: 'graph-client-state',
    type: 'created',
    handshake: {
      request: {
        query: 'validationToken=Validation%3A%20Testing%20client%20application%20reachability',
        headers: { 'content-type': 'text/plain' },
      },
      status: 200,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: 'Validation: Testing client application reachability',
    },
    valid: (id) => ({
      headers: { 'content-type': 'application/json' },
      body: json({
        value: [
          { changeType: 'created', resource: `Users/u/Events/${id}`, clientState: 'graph-client-state' },
        ],
      }),
    }),
    bad: (id) => ({
      'wrong clientState': {
        headers: { 'content-type': 'application/json' },
        body: json({ value: [{ changeType: 'created', resource: id, clientState: 'guess' }] }),
      },
    }),
  },
  {
    provider: 'calendly',
    secret: 'calendly-key',
    type: 'invitee.created',
    valid(id, at) {
      const body = json({
        event: 'invitee.created',
        payload: { uri: `https://api.calendly.com/invitees/${id}` },
      })
      return bodySigned(
        {},
        body,
        'calendly-webhook-signature',
        calendlyHeader('calendly-key', Math.floor(at / 1000), body),
      )
    },
    bad(id) {
      const body = json({ event: 'invitee.created', payload: { uri: id } })
      const at = (secret: string, ms: number) =>
        bodySigned(
          {},
          body,
          'calendly-webhook-signature',
          calendlyHeader(secret, Math.floor(ms / 1000), body),
        )
      return {
        'wrong secret': at('other', NOW),
        'tampered body': tamper(at('calendly-key', NOW)),
        'stale timestamp': at('calendly-key', OLD),
        'future timestamp': at('calendly-key', AHEAD),
      }
    },
  },
  {
    provider: 'hubspot',
    secret: 'hubspot-client-secret',
    options: { publicUrl: `${PUBLIC_BASE}/hooks/hubspot-src` },
    type: 'contact.creation',
    valid(id, at) {
      return hubspotRequest(
        'hubspot-client-secret',
        `${PUBLIC_BASE}/hooks/hubspot-src`,
        at,
        json([{ eventId: Number(id.replace(/\D/g, '')), subscriptionType: 'contact.creation' }]),
      )
    },
    bad(id) {
      const body = json([{ eventId: Number(id.replace(/\D/g, '')), subscriptionType: 'contact.creation' }])
      const url = `${PUBLIC_BASE}/hooks/hubspot-src`
      return {
        'wrong secret': hubspotRequest('other', url, NOW, body),
        'tampered body': tamper(hubspotRequest('hubspot-client-secret', url, NOW, body)),
        'stale timestamp': hubspotRequest('hubspot-client-secret', url, OLD, body),
        'future timestamp': hubspotRequest('hubspot-client-secret', url, AHEAD, body),
        'wrong URL': hubspotRequest(
          'hubspot-client-secret',
          'https://elsewhere.example/hooks/hubspot-src',
          NOW,
          body,
        ),
      }
    },
  },
  {
    provider: 'twilio',
    secret: 'twilio-auth-token',
    options: { publicUrl: `${PUBLIC_BASE}:443/hooks/twilio-src` },
    type: 'message.received',
    valid: (id) => twilioRequest('twilio-auth-token', `${PUBLIC_BASE}/hooks/twilio-src`, id),
    bad: (id) => ({
      'wrong secret': twilioRequest('other', `${PUBLIC_BASE}/hooks/twilio-src`, id),
      'tampered body': {
        ...twilioRequest('twilio-auth-token', `${PUBLIC_BASE}/hooks/twilio-src`, id),
        body: `MessageSid=${id}&SmsStatus=received&Body=forged`,
      },
      'wrong URL': twilioRequest('twilio-auth-token', 'https://elsewhere.example/hooks/twilio-src', id),
    }),
  },
  {
    provider: 'zoom',
    secret: 'zoom-secret-token',
    type: 'meeting.started',
    handshake: (() => {
      const body = json({
        payload: { plainToken: 'qgg8vlvZRS6UYooatFL8Aw' },
        event_ts: NOW,
        event: 'endpoint.url_validation',
      })
      return {
        request: bodySigned(
          { 'x-zm-request-timestamp': String(NOW_S) },
          body,
          'x-zm-signature',
          v0Header('zoom-secret-token', NOW_S, body),
        ),
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: json({
          plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
          encryptedToken: zoomEncryptedToken('zoom-secret-token', 'qgg8vlvZRS6UYooatFL8Aw'),
        }),
      }
    })(),
    valid(id, at) {
      const body = json({ event: 'meeting.started', event_ts: NOW, payload: { object: { uuid: id } } })
      const ts = Math.floor(at / 1000)
      return bodySigned(
        { 'x-zm-request-timestamp': String(ts), 'x-zm-trackingid': id },
        body,
        'x-zm-signature',
        v0Header('zoom-secret-token', ts, body),
      )
    },
    bad(id) {
      const body = json({ event: 'meeting.started', payload: { object: { uuid: id } } })
      const at = (secret: string, ms: number) =>
        bodySigned(
          { 'x-zm-request-timestamp': String(Math.floor(ms / 1000)) },
          body,
          'x-zm-signature',
          v0Header(secret, Math.floor(ms / 1000), body),
        )
      return {
        'wrong secret': at('other', NOW),
        'tampered body': tamper(at('zoom-secret-token', NOW)),
        'stale timestamp': at('zoom-secret-token', OLD),
        'future timestamp': at('zoom-secret-token', AHEAD),
      }
    },
  },
  {
    provider: 'home-assistant',
    options: { secretPath: 'ha-secret-path-0123456789' },
    type: 'door_opened',
    valid: (id) => ({
      suffix: '/ha-secret-path-0123456789',
      headers: { 'content-type': 'application/json' },
      body: json({ event_type: 'door_opened', id }),
    }),
    bad: (id) => ({
      'wrong path': {
        suffix: '/ha-secret-path-0123456788',
        headers: { 'content-type': 'application/json' },
        body: json({ event_type: 'door_opened', id }),
      },
      'no path': {
        headers: { 'content-type': 'application/json' },
        body: json({ event_type: 'door_opened', id }),
      },
    }),
  },
  {
    provider: 'pipedrive',
    options: { username: 'pd-user', password: 'pd-password' },
    type: 'deal.create',
    valid: (id) => pipedriveRequest('pd-user', 'pd-password', id),
    bad: (id) => ({
      'wrong password': pipedriveRequest('pd-user', 'guess', id),
      'wrong user': pipedriveRequest('root', 'pd-password', id),
    }),
  },
  {
    provider: 'generic-hmac',
    secret: 'generic-secret',
    options: {
      header: 'X-Signature',
      algorithm: 'sha512',
      encoding: 'base64',
      prefix: 'sha512=',
      idHeader: 'X-Delivery',
    },
    type: 'build.finished',
    valid(id) {
      const body = json({ type: 'build.finished' })
      return bodySigned(
        { 'x-delivery': id },
        body,
        'x-signature',
        bodyHmacHeader('generic-secret', body, 'sha512', 'base64', 'sha512='),
      )
    },
    bad(id) {
      const body = json({ type: 'build.finished' })
      return {
        'wrong secret': bodySigned(
          { 'x-delivery': id },
          body,
          'x-signature',
          bodyHmacHeader('other', body, 'sha512', 'base64', 'sha512='),
        ),
        'tampered body': tamper(
          bodySigned(
            { 'x-delivery': id },
            body,
            'x-signature',
            bodyHmacHeader('generic-secret', body, 'sha512', 'base64', 'sha512='),
          ),
        ),
      }
    },
  },
  {
    provider: 'none',
    type: 'ping',
    valid: (id) => ({
      headers: { 'content-type': 'application/json', 'idempotency-key': id },
      body: json({ type: 'ping' }),
    }),
    bad: () => ({}),
  },
]

function hubspotRequest(secret: string, url: string, at: number, body: string): Req {
  const signature = Signature.getSignature('POST', 'v3', {
    signature: '',
    clientSecret: secret,
    requestBody: body,
    url,
    timestamp: at,
  })
  return bodySigned({ 'x-hubspot-request-timestamp': String(at) }, body, 'x-hubspot-signature-v3', signature)
}

function twilioRequest(token: string, url: string, id: string): Req {
  const params = { MessageSid: id, SmsStatus: 'received', Body: 'Hello' }
  return {
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'i-twilio-idempotency-token': `idem-${id}`,
      'x-twilio-signature': twilioLib.getExpectedTwilioSignature(token, url, params),
    },
    body: new URLSearchParams(params).toString(),
  }
}

function pipedriveRequest(user: string, password: string, id: string): Req {
  return {
    headers: {
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    },
    body: json({ data: { id: 1 }, meta: { action: 'create', entity: 'deal', id, version: '2.0' } }),
  }
}

let t: TestEngine

beforeAll(async () => {
  t = await startTestEngine({ clock: new FakeClock(NOW), workers: 0 })
})
afterAll(() => t?.close())

async function send(sourceId: string, req: Req) {
  const url = `${t.url}/hooks/${sourceId}${req.suffix ?? ''}${req.query ? `?${req.query}` : ''}`
  return http(url, { method: req.method ?? 'POST', headers: req.headers, body: req.body })
}

/** Rejected requests are recorded without delaying the 401: wait (briefly) until the record is there. */
async function rejectedCount(sourceId: string, atLeast: number): Promise<number> {
  const count = () =>
    (
      t.engine.db
        .prepare(`SELECT COUNT(*) AS n FROM events WHERE source_id = ? AND status = 'rejected'`)
        .get(sourceId) as { n: number }
    ).n
  for (let i = 0; i < 100 && count() < atLeast; i++) await new Promise((r) => setTimeout(r, 20))
  return count()
}

describe('every preset through the real receiver', () => {
  it('covers every provider id', () => {
    expect(cases.map((c) => c.provider).sort()).toEqual([...PROVIDER_IDS].sort())
  })

  for (const c of cases) {
    it(`${c.provider}: handshake, valid, retried and bad deliveries`, async () => {
      const id = `${c.provider}-src`
      await t.engine.call('sources.create', {
        id,
        name: c.provider,
        provider: c.provider,
        secret: c.secret,
        options: c.options,
      })

      if (c.handshake) {
        const res = await send(id, c.handshake.request)
        expect(res.status).toBe(c.handshake.status)
        for (const [name, value] of Object.entries(c.handshake.headers ?? {}))
          expect(res.headers[name]).toBe(value)
        if (c.handshake.body !== undefined) expect(res.text).toBe(c.handshake.body)
      }

      const deliveryId = `d${Math.floor(NOW / 1000)}1`
      const first = await send(id, await c.valid(deliveryId, NOW))
      expect(first.status, first.text).toBe(200)
      const { id: eventId, duplicate } = first.json as { id: string; duplicate: boolean }
      expect(duplicate).toBe(false)
      const stored = await t.engine.call('events.get', { id: eventId })
      expect(stored).toMatchObject({ status: 'accepted', sourceId: id, type: c.type })

      // The provider's retry: same delivery id, signed again a little later.
      const retry = await send(id, await c.valid(deliveryId, NOW - 5_000))
      expect(retry.status, retry.text).toBe(200)
      expect(retry.json).toMatchObject({ duplicate: true })

      const bad = Object.entries(c.bad(`d${Math.floor(NOW / 1000)}2`))
      for (const [label, pending] of bad) {
        const res = await send(id, await pending)
        expect(res.status, `${label}: ${res.text}`).toBe(401)
      }
      expect(await rejectedCount(id, bad.length)).toBe(bad.length)
      const accepted = t.engine.db
        .prepare(`SELECT COUNT(*) AS n FROM events WHERE source_id = ? AND status = 'accepted'`)
        .get(id) as { n: number }
      expect(accepted.n).toBe(1)
    })
  }

  it('keeps the secret Asana handed over and the token Notion sent (with a notice to paste it back)', async () => {
    expect((await t.engine.call('sources.get', { id: 'asana-src' })).hasSecret).toBe(true)
    const notion = await t.engine.call('sources.get', { id: 'notion-src' })
    expect(notion.hasSecret).toBe(true)
    expect(notion.notice).toContain('secret_notion_token')
  })

  it('sends a signed test event for every preset through the receiver, each one new', async () => {
    for (const c of cases) {
      for (let i = 0; i < 2; i++) {
        // A second test event is not taken for a retry or a replay of the first.
        const result = await t.engine.call('sources.sendTest', { id: `${c.provider}-src` })
        expect(result.status, `${c.provider}: ${JSON.stringify(result.body)}`).toBe(200)
        expect(result.body, c.provider).toMatchObject({ duplicate: false })
      }
    }
  })
})
