import type { ProviderId } from '../../../shared/domain'

/** Two letters and a colour per provider: recognisable at a glance without shipping logos. */
const MARKS: Partial<Record<ProviderId, [string, string]>> = {
  'standard-webhooks': ['SW', '#4b5563'],
  svix: ['Sx', '#2563eb'],
  github: ['GH', '#24292f'],
  stripe: ['St', '#635bff'],
  slack: ['Sl', '#4a154b'],
  linear: ['Li', '#5e6ad2'],
  jira: ['Ji', '#0052cc'],
  asana: ['As', '#f06a6a'],
  trello: ['Tr', '#0079bf'],
  todoist: ['Td', '#e44332'],
  notion: ['No', '#37352f'],
  'google-calendar': ['GC', '#1a73e8'],
  'microsoft-graph': ['MS', '#0078d4'],
  calendly: ['Ca', '#006bff'],
  'cal-com': ['cc', '#292929'],
  hubspot: ['HS', '#ff7a59'],
  shopify: ['Sh', '#5e8e3e'],
  twilio: ['Tw', '#f22f46'],
  zoom: ['Zm', '#0b5cff'],
  'home-assistant': ['HA', '#18bcf2'],
  pipedrive: ['Pd', '#1a1a1a'],
  'generic-hmac': ['#', '#6b7280'],
  none: ['—', '#9ca3af'],
}

export function ProviderIcon({ provider }: { provider: ProviderId | string | null }) {
  const [mark, color] = MARKS[provider as ProviderId] ?? ['?', '#9ca3af']
  return (
    <span
      className="provider-icon"
      style={{ background: color }}
      title={provider ?? 'unknown provider'}
      aria-hidden="true"
    >
      {mark}
    </span>
  )
}
