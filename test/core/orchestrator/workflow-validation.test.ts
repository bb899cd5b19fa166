import { readdirSync, readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ApiError } from '../../../src/shared/contract'
import { validateWorkflow, workflowJsonSchema } from '../../../src/shared/workflow'
import { Harness } from './harness'

const valid = () => ({
  id: 'wf',
  name: 'A workflow',
  trigger: { source: 'shop', types: ['order.*'] },
  steps: [
    { id: 'a', kind: 'http', url: 'http://127.0.0.1:1/x' },
    { id: 'b', kind: 'if', when: 'steps.a.status = 200', then: [{ id: 'c', kind: 'notify', title: 'ok' }] },
  ],
})

function refusal(fn: () => unknown): { message: string; issues: Array<{ path: string; message: string }> } {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError)
    const e = error as ApiError
    expect(e.code).toBe('bad_request')
    return {
      message: e.message,
      issues: (e.details as { issues: Array<{ path: string; message: string }> }).issues,
    }
  }
  throw new Error('expected a refusal')
}

describe('workflow validation', () => {
  let h: Harness
  let sources: Set<string>
  beforeEach(() => {
    sources = new Set(['shop', '3pl'])
    h = new Harness({ sourceExists: (id) => sources.has(id) })
  })
  afterEach(() => h.close())

  const cases: Array<[string, (w: ReturnType<typeof valid>) => unknown, string, RegExp]> = [
    [
      'an unknown step kind',
      (w) => ((w.steps[1] as { then: unknown[] }).then[0] = { id: 'c', kind: 'teleport' }),
      'steps.1.then.0.kind',
      /unknown step kind "teleport"/,
    ],
    [
      'bad JSONata in a condition',
      (w) => ((w.steps[1] as { when: string }).when = 'steps.a.status = ('),
      'steps.1.when',
      /invalid JSONata/,
    ],
    [
      'bad JSONata in a trigger',
      (w) => ((w.trigger as { when?: string }).when = '$count(items'),
      'trigger.when',
      /invalid JSONata/,
    ],
    [
      'bad JSONata in a template',
      (w) => ((w.steps[0] as { url: string }).url = 'http://x/{{ event.( }}'),
      'steps.0.url',
      /invalid JSONata/,
    ],
    [
      'an unclosed template',
      (w) => ((w.steps[0] as { url: string }).url = 'http://x/{{ event.id'),
      'steps.0.url',
      /unclosed/,
    ],
    [
      'a duplicate step id, also across branches',
      (w) => ((w.steps[1] as { then: Array<{ id: string }> }).then[0]!.id = 'a'),
      'steps.1.then.0.id',
      /duplicate step id "a"/,
    ],
    [
      'a reference to an unknown step',
      (w) => ((w.steps[1] as { when: string }).when = 'steps.nope.status = 200'),
      'steps.1.when',
      /unknown step "nope"/,
    ],
    [
      'a reference to an unknown step inside a body template',
      (w) => ((w.steps[0] as { body?: unknown; method?: string }).body = { x: ['{{ steps.ghost.body }}'] }),
      'steps.0.body.x.0',
      /unknown step "ghost"/,
    ],
    [
      'a step id that expressions cannot name',
      (w) => (w.steps[0]!.id = 'has-dash'),
      'steps.0.id',
      /must be a name/,
    ],
    [
      'a bad duration',
      (w) => w.steps.push({ id: 'd', kind: 'delay', duration: 'soon' } as never),
      'steps.2.duration',
      /duration/,
    ],
    [
      'an unknown field (a typo)',
      (w) => ((w.steps[0] as Record<string, unknown>).methd = 'POST'),
      'steps.0',
      /methd/,
    ],
    [
      'a missing trigger source',
      (w) => delete (w.trigger as { source?: string }).source,
      'trigger.source',
      /.+/,
    ],
    [
      'a trigger source that does not exist',
      (w) => (w.trigger.source = 'nope'),
      'trigger.source',
      /no source "nope" exists/,
    ],
    ['no steps', (w) => (w.steps = []), 'steps', /at least one step/],
    [
      'a waitForEvent without a timeout',
      (w) => w.steps.push({ id: 'w', kind: 'waitForEvent', source: '3pl' } as never),
      'steps.2.timeout',
      /.+/,
    ],
  ]

  for (const [name, mutate, path, message] of cases) {
    it(`refuses ${name}, pointing at ${path}, and stores nothing`, () => {
      const workflow = valid()
      mutate(workflow)
      const { issues, message: text } = refusal(() => h.ops['workflows.create'](workflow as never))
      const issue = issues.find((i) => i.path === path)
      expect(issue, JSON.stringify(issues)).toBeTruthy()
      expect(issue!.message).toMatch(message)
      expect(text).toContain(issues[0]!.path)
      expect(h.ops['workflows.list']({})).toEqual({ items: [] })
    })
  }

  it('refuses an invalid update and keeps the stored version', () => {
    h.ops['workflows.create'](valid())
    const broken = valid()
    ;(broken.steps[1] as { when: string }).when = 'steps.zzz = 1'
    refusal(() => h.ops['workflows.put'](broken as never))
    const stored = h.ops['workflows.get']({ id: 'wf' }) as { version: number; definition: unknown }
    expect(stored.version).toBe(1)
    expect(stored.definition).toEqual(valid())
  })

  it('reports a missing trigger source together with the other problems, each at its field', () => {
    const workflow = valid()
    workflow.trigger.source = 'nope'
    ;(workflow.steps[1] as { when: string }).when = 'steps.zzz = 1'
    const { issues } = refusal(() => h.ops['workflows.create'](workflow as never))
    expect(issues.map((i) => i.path).sort()).toEqual(['steps.1.when', 'trigger.source'])
  })

  it('refuses an update to a source that does not exist and keeps the stored version', () => {
    h.ops['workflows.create'](valid())
    const moved = { ...valid(), trigger: { source: 'nope' } }
    const { message, issues } = refusal(() => h.ops['workflows.put'](moved))
    expect(message).toBe(
      'trigger.source: no source "nope" exists (create the source first, or name an existing source id)',
    )
    expect(issues).toEqual([{ path: 'trigger.source', message: expect.stringMatching(/"nope"/) as string }])
    const stored = h.ops['workflows.get']({ id: 'wf' }) as { version: number; definition: unknown }
    expect(stored.version).toBe(1)
    expect(stored.definition).toEqual(valid())
  })

  it('refuses to enable a workflow whose source was deleted, but still lets it be disabled', () => {
    h.ops['workflows.create'](valid())
    sources.delete('shop')
    expect(h.ops['workflows.setEnabled']({ id: 'wf', enabled: false })).toMatchObject({ enabled: false })
    const { issues } = refusal(() => h.ops['workflows.setEnabled']({ id: 'wf', enabled: true }))
    expect(issues[0]).toMatchObject({ path: 'trigger.source', message: expect.stringMatching(/"shop"/) })
    expect(h.ops['workflows.get']({ id: 'wf' })).toMatchObject({ enabled: false, version: 1 })
    // Pointing it at a source that exists makes it whole again.
    const moved = { ...valid(), enabled: false, trigger: { source: '3pl' } }
    expect(h.ops['workflows.put'](moved)).toMatchObject({ version: 2 })
    expect(h.ops['workflows.setEnabled']({ id: 'wf', enabled: true })).toMatchObject({ enabled: true })
  })

  it('refuses a dry run on a source that does not exist, given or stored', async () => {
    const given = { ...valid(), trigger: { source: 'nope' } }
    await expect(h.ops['workflows.test']({ id: 'wf', definition: given, event: {} })).rejects.toMatchObject({
      code: 'bad_request',
      message: expect.stringMatching(/^trigger\.source: no source "nope"/) as string,
      details: { issues: [{ path: 'trigger.source' }] },
    })
    h.ops['workflows.create'](valid())
    sources.delete('shop')
    await expect(h.ops['workflows.test']({ id: 'wf', event: {} })).rejects.toMatchObject({
      code: 'bad_request',
      details: { issues: [{ path: 'trigger.source', message: expect.stringMatching(/"shop"/) }] },
    })
    const runs = h.db.prepare(`SELECT COUNT(*) AS n FROM runs`).get() as { n: number }
    expect(runs.n).toBe(0)
  })

  it('versions every saved change, returns the document for export, and refuses a duplicate id', () => {
    const created = h.ops['workflows.create'](valid()) as { version: number; definition: unknown }
    expect(created.version).toBe(1)
    expect(created.definition).toEqual(valid())
    const changed = { ...valid(), name: 'Renamed' }
    expect((h.ops['workflows.put'](changed) as { version: number }).version).toBe(2)
    expect((h.ops['workflows.put'](changed) as { version: number }).version).toBe(2) // unchanged: same version
    expect((h.ops['workflows.versions']({ id: 'wf' }) as { items: unknown[] }).items).toHaveLength(2)
    expect(() => h.ops['workflows.create'](valid())).toThrow(/already exists/)
    const disabled = h.ops['workflows.setEnabled']({ id: 'wf', enabled: false }) as {
      enabled: boolean
      version: number
    }
    expect(disabled).toMatchObject({ enabled: false, version: 2 })
    h.ops['workflows.delete']({ id: 'wf' })
    expect(() => h.ops['workflows.get']({ id: 'wf' })).toThrow(/no workflow/)
    // Re-created under the same id: numbering continues, so runs pinned to old versions stay unambiguous.
    expect((h.ops['workflows.create'](valid()) as { version: number }).version).toBe(3)
  })

  it('accepts every bundled example and exports a JSON Schema', () => {
    for (const file of readdirSync('resources/examples')) {
      const result = validateWorkflow(JSON.parse(readFileSync(`resources/examples/${file}`, 'utf8')))
      expect(result.ok, `${file}: ${JSON.stringify(result)}`).toBe(true)
    }
    const schema = workflowJsonSchema()
    expect(schema.$schema).toMatch(/json-schema/)
    expect(JSON.stringify(schema)).toContain('waitForEvent')
    expect(h.ops['workflows.schema']({})).toEqual(schema)
  })
})
