import { standardWebhooksPreset } from './standard-webhooks-scheme'

/** Svix: the Standard Webhooks scheme under svix-* headers (webhook-* also accepted, as Svix's library does). */
export const svix = standardWebhooksPreset({
  id: 'svix',
  name: 'Svix',
  headerPrefixes: ['svix', 'webhook'],
  setup:
    'In the Svix app portal of the sending service, add an endpoint with the URL {url} and choose the event ' +
    'types you want. Open the endpoint, reveal its signing secret (whsec_…) and paste it here as the secret.',
})
