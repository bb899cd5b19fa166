import { readFileSync } from 'node:fs'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { FakeClock } from '../../../src/core/clock'
import {
  newWebhookSecret,
  startChat,
  startHomeAutomation,
  startTaskApi,
} from '../../fixtures/fake-services/services'
import { Harness } from './harness'

const example = (name: string) =>
  JSON.parse(readFileSync(`resources/examples/${name}.json`, 'utf8')) as Record<string, unknown>

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  while (open.length) await open.pop()!.close()
})
function harness(): Harness {
  const h = new Harness({ clock: new FakeClock(Date.now()) })
  open.push({ close: () => h.close() })
  return h
}

describe('bundled examples against fake services', () => {
  it('project management: an issue assigned to me becomes a task over the task API', async () => {
    const api = await startTaskApi('task-token-1')
    open.push(api.service)
    const h = harness()
    h.ops['secrets.put']({ name: 'taskApiUrl', value: api.service.url })
    h.ops['secrets.put']({ name: 'taskApiToken', value: 'task-token-1' })
    h.ops['workflows.create'](example('issue-to-task'))
    const issue = (email: string) => ({
      action: 'update',
      type: 'Issue',
      data: { id: 'i1', identifier: 'ENG-7', title: 'Fix the flux capacitor', assignee: { email } },
      updatedFrom: { assigneeId: null },
      url: 'https://linear.app/x/issue/ENG-7',
    })
    const other = h.addEvent({ sourceId: 'linear', type: 'Issue.update', body: issue('someone@example.com') })
    const mine = h.addEvent({ sourceId: 'linear', type: 'Issue.update', body: issue('me@example.com') })
    const [runId] = await h.runsOf(mine)
    await h.waitForStatus(runId!, 'succeeded')
    expect(h.orchestrator.runsForEvent(other)).toEqual([])
    expect(api.tasks).toEqual([
      {
        content: 'ENG-7: Fix the flux capacitor',
        description: 'https://linear.app/x/issue/ENG-7',
        labels: ['linear'],
      },
    ])
    const notes = h.ops['notifications.list']({ limit: 5 }) as {
      items: Array<{ title: string; body: string | null }>
    }
    expect(notes.items[0]).toMatchObject({ title: 'New task: ENG-7', body: 'Fix the flux capacitor' })
  })

  it('CRM: a deal moved to closed-won posts a Standard Webhooks-signed message to the chat service', async () => {
    const secret = newWebhookSecret()
    const chat = await startChat(secret)
    open.push(chat.service)
    const h = harness()
    h.ops['secrets.put']({ name: 'chatUrl', value: chat.service.url })
    h.ops['secrets.put']({ name: 'chatSecret', value: secret })
    h.ops['workflows.create'](example('deal-won-chat'))
    const change = (value: string, objectId: number) => [
      { subscriptionType: 'deal.propertyChange', objectId, propertyName: 'dealstage', propertyValue: value },
    ]
    const lost = h.addEvent({
      sourceId: 'hubspot',
      type: 'deal.propertyChange',
      body: change('closedlost', 1),
    })
    const won = h.addEvent({
      sourceId: 'hubspot',
      type: 'deal.propertyChange',
      body: change('closedwon', 42),
    })
    const [runId] = await h.runsOf(won)
    await h.waitForStatus(runId!, 'succeeded')
    expect(h.orchestrator.runsForEvent(lost)).toEqual([])
    const [message] = chat.service.to('/messages')
    expect(message!.status).toBe(200)
    expect(message!.json).toEqual({ channel: '#sales', text: 'Deal 42 won! 🎉' })
    expect(new Webhook(secret).verify(message!.body, message!.headers)).toEqual(message!.json)
    expect(message!.headers['webhook-id']).toBe(`${runId}:post`)
  })

  it('smart home: arriving after dark switches the light on and sets the heating; by day only the heating', async () => {
    const home = await startHomeAutomation('ha-token')
    open.push(home.service)
    const h = harness()
    h.ops['secrets.put']({ name: 'homeUrl', value: home.service.url })
    h.ops['secrets.put']({ name: 'homeToken', value: 'ha-token' })
    h.ops['workflows.create'](example('arrived-home'))
    const night = h.addEvent({
      sourceId: 'home',
      type: 'arrived_home',
      body: { event_type: 'arrived_home', data: { person: 'me', sun: 'below_horizon' } },
    })
    await h.waitForStatus((await h.runsOf(night))[0]!, 'succeeded')
    expect(home.calls.map((c) => c.service)).toEqual(['light.turn_on', 'climate.set_temperature'])
    const day = h.addEvent({
      sourceId: 'home',
      type: 'arrived_home',
      body: { event_type: 'arrived_home', data: { person: 'me', sun: 'above_horizon' } },
    })
    const dayRun = await h.waitForStatus((await h.runsOf(day))[0]!, 'succeeded')
    expect(dayRun.steps.find((s) => s.stepId === 'dark')!.output).toEqual({
      value: 'above_horizon',
      case: 'default',
    })
    expect(home.calls.map((c) => c.service)).toEqual([
      'light.turn_on',
      'climate.set_temperature',
      'climate.set_temperature',
    ])
  })

  it('calendar: a meeting starting soon becomes a notification with its join link', async () => {
    const h = harness()
    h.ops['workflows.create'](example('meeting-reminder'))
    const later = h.addEvent({
      sourceId: 'calendar',
      type: 'meeting.starting_soon',
      body: { title: 'Standup', minutesUntilStart: 60, joinUrl: 'https://meet.example/a' },
    })
    const soon = h.addEvent({
      sourceId: 'calendar',
      type: 'meeting.starting_soon',
      body: { title: 'Standup', minutesUntilStart: 10, joinUrl: 'https://meet.example/a' },
    })
    await h.waitForStatus((await h.runsOf(soon))[0]!, 'succeeded')
    expect(h.orchestrator.runsForEvent(later)).toEqual([])
    const notes = h.ops['notifications.list']({ limit: 5 }) as {
      items: Array<{ title: string; body: string | null }>
    }
    expect(notes.items).toEqual([
      expect.objectContaining({ title: 'Standup starts in 10 min', body: 'Join: https://meet.example/a' }),
    ])
  })
})
