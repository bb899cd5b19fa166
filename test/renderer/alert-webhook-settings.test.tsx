import { act, cleanup, fireEvent, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '../../src/shared/contract'
import type { AlertWebhookDelivery, AlertWebhookSettings } from '../../src/shared/domain'
import { AlertWebhookSettingsCard } from '../../src/renderer/src/components/alert-webhook-settings'
import { renderWithApp } from './render-app'

afterEach(() => {
  cleanup()
  delete (window as { confirm?: unknown }).confirm
})

/** happy-dom has no window.confirm: answer it the way the person would. */
function answerConfirm(answer: boolean) {
  const confirm = vi.fn(() => answer)
  Object.defineProperty(window, 'confirm', { value: confirm, configurable: true, writable: true })
  return confirm
}

const SECRET = `whsec_${'A'.repeat(42)}Zk=`
const OFF: AlertWebhookSettings = {
  url: null,
  hasSecret: false,
  secretHint: null,
  previousSecretUntil: null,
  fixedByConfig: false,
  updatedAt: null,
  lastDelivery: null,
}

/** A fake engine side keeping the setting the way the engine does (URL, secret hint), for one render. */
function fakeWebhook(initial: AlertWebhookSettings = OFF, delivery?: Partial<AlertWebhookDelivery>) {
  let view = initial
  return {
    'alerts.webhook.get': () => view,
    'alerts.webhook.set': ({ url }: { url: string | null }) => {
      if (url?.includes('refused.example'))
        throw new ApiError('bad_request', 'url: refused by the engine', {
          issues: [{ path: 'url', message: 'refused by the engine' }],
        })
      const fresh = url !== null && !view.hasSecret
      view = url
        ? { ...view, url, hasSecret: true, secretHint: `whsec_…${SECRET.slice(-4)}`, updatedAt: 1 }
        : OFF
      return { webhook: view, secret: fresh ? SECRET : null }
    },
    'alerts.webhook.rotateSecret': () => {
      view = { ...view, secretHint: 'whsec_…NEW=', previousSecretUntil: Date.UTC(2030, 0, 1) }
      return { webhook: view, secret: 'whsec_rotatedNEW=' }
    },
    'alerts.webhook.test': (): AlertWebhookDelivery => ({
      at: Date.UTC(2026, 0, 1, 12, 0, 0),
      webhookId: 'msg_1',
      type: 'alert.test',
      url: view.url!,
      ok: true,
      status: 200,
      error: null,
      ...delivery,
    }),
  }
}

async function renderCard(handlers: ReturnType<typeof fakeWebhook>) {
  const view = renderWithApp(<AlertWebhookSettingsCard />, handlers)
  await screen.findByLabelText('URL')
  return view
}

const setCalls = (calls: Array<{ name: string; args: unknown }>) =>
  calls.filter((c) => c.name === 'alerts.webhook.set').map((c) => c.args)

describe('the alert webhook settings', () => {
  it('turns the webhook on with a URL and shows the generated secret once', async () => {
    const { fake } = await renderCard(fakeWebhook())
    expect(screen.getByText('off')).toBeTruthy()
    fireEvent.change(screen.getByLabelText('URL'), { target: { value: ' https://chat.example.com/a ' } })
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Turn on' })))
    expect(setCalls(fake.calls)).toEqual([{ url: 'https://chat.example.com/a' }])
    expect(screen.getByText('on')).toBeTruthy()
    expect(screen.getByText(SECRET).tagName).toBe('CODE')
    expect(screen.getByText(`whsec_…${SECRET.slice(-4)}`)).toBeTruthy()

    fireEvent.click(screen.getByRole('button', { name: 'Done' }))
    expect(screen.queryByText(SECRET)).toBeNull()
    // Saving a new URL keeps the secret: nothing is shown again.
    fireEvent.change(screen.getByLabelText('URL'), { target: { value: 'https://chat.example.com/b' } })
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Save' })))
    expect(setCalls(fake.calls)).toHaveLength(2)
    expect(screen.queryByText(SECRET)).toBeNull()
  })

  it('refuses a URL that is not http or https before asking the engine, and shows the engine’s refusal', async () => {
    const { fake } = await renderCard(fakeWebhook())
    fireEvent.change(screen.getByLabelText('URL'), { target: { value: 'ftp://files.example.com' } })
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Turn on' })))
    expect(screen.getByText('must be an http or https URL, not ftp')).toBeTruthy()
    expect(screen.getByLabelText('URL').getAttribute('aria-invalid')).toBe('true')
    expect(setCalls(fake.calls)).toEqual([])

    fireEvent.change(screen.getByLabelText('URL'), { target: { value: 'https://refused.example/x' } })
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Turn on' })))
    expect(screen.getByText('refused by the engine')).toBeTruthy()
    expect(screen.getByText('off')).toBeTruthy()
  })

  it('sends a test alert and shows a failing target’s answer as a failure', async () => {
    const { app } = await renderCard(
      fakeWebhook(
        { ...OFF, url: 'https://chat.example.com/a', hasSecret: true, secretHint: 'whsec_…abcd' },
        { ok: false, status: 503, error: 'the target answered 503' },
      ),
    )
    expect(screen.getByText('none since the engine started')).toBeTruthy()
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Send a test alert' })))
    const line = await screen.findByText(/Test alert not delivered/)
    expect(line.textContent).toMatch(/the target answered 503$/)
    expect(line.className).toBe('error-text')
    expect(app.system.store.getState().outcomes.at(-1)).toMatchObject({
      kind: 'error',
      text: expect.stringMatching(/^Test alert not delivered .*: the target answered 503$/),
    })
  })

  it('rotates the secret after confirming, showing the new one once', async () => {
    const confirm = answerConfirm(true)
    await renderCard(
      fakeWebhook({ ...OFF, url: 'https://chat.example.com/a', hasSecret: true, secretHint: 'whsec_…abcd' }),
    )
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Rotate secret' })))
    expect(screen.getByText('whsec_rotatedNEW=')).toBeTruthy()
    expect(screen.getByText('whsec_…NEW=')).toBeTruthy()
    expect(screen.getByText(/the previous one also signs until/)).toBeTruthy()
    expect(confirm).toHaveBeenCalledOnce()
  })

  it('turns the webhook off with null after confirming, and not without', async () => {
    const confirm = answerConfirm(false)
    const { fake } = await renderCard(
      fakeWebhook({ ...OFF, url: 'https://chat.example.com/a', hasSecret: true, secretHint: 'whsec_…abcd' }),
    )
    fireEvent.click(screen.getByRole('button', { name: 'Turn off' }))
    expect(setCalls(fake.calls)).toEqual([])
    confirm.mockReturnValue(true)
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Turn off' })))
    expect(setCalls(fake.calls)).toEqual([{ url: null }])
    await waitFor(() => expect(screen.getByText('off')).toBeTruthy())
    expect((screen.getByLabelText('URL') as HTMLInputElement).value).toBe('')
    expect(screen.queryByRole('button', { name: 'Send a test alert' })).toBeNull()
  })

  it('shows a webhook fixed by configuration read-only, still testable', async () => {
    await renderCard(
      fakeWebhook({
        ...OFF,
        url: 'https://chat.example.com/fixed',
        hasSecret: true,
        secretHint: 'whsec_…abcd',
        fixedByConfig: true,
      }),
    )
    expect(screen.getByRole('note').textContent).toMatch(/Set by the engine.s configuration/)
    expect((screen.getByLabelText('URL') as HTMLInputElement).readOnly).toBe(true)
    for (const name of ['Save', 'Rotate secret', 'Turn off'])
      expect(screen.queryByRole('button', { name })).toBeNull()
    await act(async () => fireEvent.click(screen.getByRole('button', { name: 'Send a test alert' })))
    expect((await screen.findByText(/Test alert delivered/)).textContent).toMatch(/answered 200$/)
  })
})
