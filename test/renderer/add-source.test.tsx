import { act, cleanup, fireEvent, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ProviderPreset, Source } from '../../src/shared/domain'
import { SourcesView } from '../../src/renderer/src/components/sources-view'
import { renderWithApp } from './render-app'

afterEach(cleanup)

const preset: ProviderPreset = {
  id: 'standard-webhooks',
  name: 'Standard Webhooks',
  usesSecret: true,
  secretRequired: true,
  options: [],
  setup: 'Add an endpoint with the URL {url}.',
}

function created(name: string): Source {
  return {
    id: 'shop-1a2b3c',
    name,
    provider: 'standard-webhooks',
    enabled: true,
    options: {},
    hasSecret: true,
    previousSecretUntil: null,
    maxBodyBytes: 1_048_576,
    rateLimit: null,
    url: 'http://127.0.0.1:7770/hooks/shop-1a2b3c',
    publicUrl: null,
    createdAt: 0,
    updatedAt: 0,
    lastReceivedAt: null,
    notice: null,
  }
}

async function addSource(fill: (secretField: HTMLElement) => void): Promise<HTMLElement> {
  renderWithApp(<SourcesView />, {
    'providers.list': () => ({ items: [preset] }),
    'sources.create': (args: { name: string }) => created(args.name),
  })
  const add = screen.getByRole('button', { name: 'Add source' }) as HTMLButtonElement
  // Enabled once the presets have loaded.
  await vi.waitFor(() => expect(add.disabled).toBe(false))
  await act(async () => add.click())
  fireEvent.change(await screen.findByLabelText('Name'), { target: { value: 'Shop' } })
  fill(screen.getByRole('textbox', { name: /Signing secret/ }))
  await act(async () => {
    fireEvent.submit(screen.getByRole('form', { name: 'Add a source' }))
  })
  return screen.findByRole('region', { name: 'Source added' })
}

describe('adding a source', () => {
  it('shows a secret generated here once, to copy into the provider', async () => {
    let secret = ''
    const added = await addSource((field) => {
      fireEvent.click(screen.getByText('Generate'))
      secret = (field as HTMLInputElement).value
    })
    expect(secret).toMatch(/^whsec_/)
    expect(added.textContent).toContain(secret)
    expect(added.textContent).toContain('copy it into the provider')
  })

  it('does not show back a secret pasted from the provider', async () => {
    const pasted = 'whsec_cGFzdGVkIGZyb20gdGhlIHByb3ZpZGVy'
    const added = await addSource((field) => fireEvent.change(field, { target: { value: pasted } }))
    expect(added.textContent).toContain('/hooks/shop-1a2b3c')
    expect(added.textContent).not.toContain(pasted)
  })
})
