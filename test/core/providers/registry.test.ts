import { describe, expect, it } from 'vitest'
import { PROVIDER_IDS } from '../../../src/shared/domain'
import { getProvider, listPresets, providers } from '../../../src/core/providers/index'
import { context, expectAccepted, fromSample, parsedJson } from './harness'

/** Options (and secret) that make a source of each preset complete, for the round trip below. */
const SETUP: Record<string, { options?: Record<string, unknown>; secret?: string }> = {
  'standard-webhooks': { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  svix: { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  'google-calendar': { options: { channelToken: 'channel-token' } },
  'microsoft-graph': { options: { clientState: 'client-state' } },
  pipedrive: { options: { username: 'u', password: 'p' } },
  'home-assistant': { options: { secretPath: 'a-long-secret-path-123' } },
  'generic-hmac': {
    options: { header: 'X-Signature', algorithm: 'sha256', encoding: 'hex' },
    secret: 'a-shared-secret',
  },
  none: {},
}

describe('the provider registry', () => {
  it('has a preset for every provider id of the contract, under its own id', () => {
    for (const id of PROVIDER_IDS) expect(getProvider(id)?.id).toBe(id)
    expect(Object.keys(providers).sort()).toEqual([...PROVIDER_IDS].sort())
    expect(getProvider('constructor')).toBeUndefined()
  })

  it('lists presets for the UI with setup text that shows the URL', () => {
    const presets = listPresets()
    expect(presets.map((p) => p.id).sort()).toEqual([...PROVIDER_IDS].sort())
    for (const preset of presets) {
      expect(preset.setup, preset.id).toContain('{url}')
      expect(preset.name.length).toBeGreaterThan(0)
    }
  })

  it('has upper-case methods, and handshake-only methods only where a handshake answers them', () => {
    for (const provider of Object.values(providers)) {
      for (const method of provider.methods) expect(method).toBe(method.toUpperCase())
      if (provider.methods.includes('HEAD')) expect(provider.handshake, provider.id).toBeDefined()
    }
  })

  for (const id of PROVIDER_IDS) {
    it(`${id}: the sample of a completely set-up source verifies with the preset's own verify`, () => {
      const provider = getProvider(id)!
      const setup = SETUP[id] ?? { secret: 'a-shared-secret' }
      const options = provider.options.parse(setup.options ?? {})
      expect(provider.validateSetup?.(options, setup.secret !== undefined) ?? null).toBeNull()
      if (provider.secretRequired) expect(setup.secret).toBeDefined()
      const ctx = context({ secrets: setup.secret ? [setup.secret] : [], options })
      const req = fromSample(provider, ctx)
      expect(provider.methods).toContain(req.method)
      expectAccepted(provider, req, ctx)
      // Two samples are two distinct events: never deduplicated against each other.
      const again = fromSample(provider, ctx)
      const dedup = (r: typeof req) => provider.dedupId(r, parsedJson(r), options) ?? r.body.toString()
      if (id !== 'none') expect(dedup(again)).not.toBe(dedup(req))
    })
  }
})
