import type { ProviderPreset } from '../../shared/domain'
import type { ProviderId } from '../../shared/domain'
import { none } from './none'
import type { Provider } from './types'

/** Every preset, by provider id. */
export const providers: Partial<Record<ProviderId, Provider>> = {
  none,
}

export function getProvider(id: string): Provider | undefined {
  return (providers as Record<string, Provider | undefined>)[id]
}

/** The presets as the UI shows them. */
export function listPresets(): ProviderPreset[] {
  return Object.values(providers).map((p) => ({
    id: p.id,
    name: p.name,
    usesSecret: p.usesSecret,
    secretRequired: p.secretRequired,
    options: p.optionDocs,
    setup: p.setup,
  }))
}
