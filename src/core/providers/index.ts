import type { ProviderPreset } from '../../shared/domain'
import type { ProviderId } from '../../shared/domain'
import { asana } from './asana'
import { calCom } from './cal-com'
import { calendly } from './calendly'
import { genericHmac } from './generic-hmac'
import { github } from './github'
import { googleCalendar } from './google-calendar'
import { homeAssistant } from './home-assistant'
import { hubspot } from './hubspot'
import { jira } from './jira'
import { linear } from './linear'
import { microsoftGraph } from './microsoft-graph'
import { none } from './none'
import { notion } from './notion'
import { pipedrive } from './pipedrive'
import { shopify } from './shopify'
import { slack } from './slack'
import { standardWebhooks } from './standard-webhooks'
import { stripe } from './stripe'
import { svix } from './svix'
import { todoist } from './todoist'
import { trello } from './trello'
import { twilio } from './twilio'
import { zoom } from './zoom'
import type { Provider } from './types'

/** Every preset, by provider id (the contract's PROVIDER_IDS, all of them). */
export const providers: Record<ProviderId, Provider> = {
  'standard-webhooks': standardWebhooks,
  svix,
  github,
  stripe,
  slack,
  linear,
  jira,
  asana,
  trello,
  todoist,
  notion,
  'google-calendar': googleCalendar,
  'microsoft-graph': microsoftGraph,
  calendly,
  'cal-com': calCom,
  hubspot,
  shopify,
  twilio,
  zoom,
  'home-assistant': homeAssistant,
  pipedrive,
  'generic-hmac': genericHmac,
  none,
}

export function getProvider(id: string): Provider | undefined {
  return Object.hasOwn(providers, id) ? providers[id as ProviderId] : undefined
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
