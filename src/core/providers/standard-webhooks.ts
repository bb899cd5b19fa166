import { standardWebhooksPreset } from './standard-webhooks-scheme'

/** Standard Webhooks (standardwebhooks.com): webhook-id / webhook-timestamp / webhook-signature. */
export const standardWebhooks = standardWebhooksPreset({
  id: 'standard-webhooks',
  name: 'Standard Webhooks',
  headerPrefixes: ['webhook'],
  setup:
    'In the sending service, add a webhook endpoint with the URL {url}. Copy its signing secret ' +
    '(it starts with whsec_) and paste it here as the secret. Requests older or newer than 5 minutes are refused, ' +
    'so keep both clocks right.',
})
