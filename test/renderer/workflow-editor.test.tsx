import { act, cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ApiError } from '../../src/shared/contract'
import type { WorkflowRecord } from '../../src/shared/domain'
import { editorIssues, WorkflowEditor } from '../../src/renderer/src/components/workflow-editor'
import { renderWithApp } from './render-app'

afterEach(cleanup)

// A schema shaped like the orchestrator's (zod → JSON Schema, steps told apart by `kind`).
const step = z.discriminatedUnion('kind', [
  z.object({ id: z.string(), kind: z.literal('http'), url: z.string().min(1) }).strict(),
  z.object({ id: z.string(), kind: z.literal('notify'), title: z.string() }).strict(),
])
const schema = z.toJSONSchema(
  z
    .object({
      id: z.string().min(1),
      name: z.string().min(1),
      trigger: z.object({ source: z.string() }).strict(),
      steps: z.array(step),
    })
    .strict(),
) as Record<string, unknown>

const text = (value: unknown) => JSON.stringify(value, null, 2)

describe('editor issues', () => {
  it('places a syntax error on its line and column', () => {
    const { issues } = editorIssues('{\n  "id": "x",\n  "name" "y"\n}', schema, [])
    expect(issues).toHaveLength(1)
    expect(issues[0]).toMatchObject({ origin: 'syntax', line: 3, column: 10 })
    expect(issues[0]!.message).toMatch(/Expected ':'/)
  })

  it('places schema issues on the line of the field they are about', () => {
    const doc = text({
      id: 'w',
      name: 'W',
      trigger: { source: 's' },
      steps: [{ id: 'a', kind: 'http', url: '' }],
    })
    const { issues } = editorIssues(doc, schema, [])
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'steps.0.url',
        message: 'must not be empty',
        line: doc.split('\n').findIndex((l) => l.includes('"url"')) + 1,
      }),
    ])
  })

  it('names the allowed step kinds when a kind is unknown', () => {
    const doc = text({ id: 'w', name: 'W', trigger: { source: 's' }, steps: [{ id: 'a', kind: 'email' }] })
    const { issues } = editorIssues(doc, schema, [])
    expect(issues).toEqual([
      expect.objectContaining({ path: 'steps.0.kind', message: 'must be one of "http", "notify"' }),
    ])
  })

  it("adds the server's issues, except where the schema already flags the same field", () => {
    const doc = text({ id: 'w', name: 'W', trigger: { source: 's' }, steps: [{ id: 'a', kind: 'email' }] })
    const { issues } = editorIssues(doc, schema, [
      { path: 'steps.0.kind', message: 'unknown step kind "email"' },
      { path: 'trigger.source', message: 'no source s' },
    ])
    expect(issues.map((i) => [i.path, i.origin])).toEqual([
      ['trigger.source', 'server'],
      ['steps.0.kind', 'schema'],
    ])
  })

  it('points a missing field at the object that lacks it', () => {
    const doc = text({ id: 'w', name: 'W', trigger: {}, steps: [] })
    const { issues } = editorIssues(doc, schema, [])
    expect(issues[0]).toMatchObject({ path: 'trigger.source', message: 'is required', line: 4 })
  })
})

describe('the workflow editor', () => {
  const record: WorkflowRecord = {
    id: 'wf',
    name: 'W',
    enabled: true,
    version: 3,
    trigger: { source: 's' },
    updatedAt: 1,
    definition: {
      id: 'wf',
      name: 'W',
      trigger: { source: 's' },
      steps: [{ id: 'a', kind: 'notify', title: 'hi' }],
    },
  }

  it('shows inline errors as you type, and the server’s errors at their paths after a save', async () => {
    const saved: unknown[] = []
    const view = renderWithApp(<WorkflowEditor workflowId="wf" />, {
      'workflows.schema': () => schema,
      'workflows.get': () => record,
      'workflows.versions': () => ({
        items: [1, 2, 3].map((version) => ({
          workflowId: 'wf',
          version,
          createdAt: version,
          definition: {},
        })),
      }),
      'workflows.put': (args: unknown) => {
        saved.push(args)
        throw new ApiError('bad_request', 'steps.0.title: unknown secret "nope"', {
          issues: [{ path: 'steps.0.title', message: 'unknown secret "nope"' }],
        })
      },
    })
    const area = (await screen.findByLabelText('Workflow definition (JSON)')) as HTMLTextAreaElement
    await waitFor(() => expect(screen.getByText('No problems found.')).toBeTruthy())
    expect(screen.getAllByRole('listitem').filter((li) => li.textContent?.startsWith('v'))).toHaveLength(3)

    const broken = text({ ...record.definition, steps: [{ id: 'a', kind: 'http' }] })
    fireEvent.change(area, { target: { value: broken } })
    const problems = screen.getByRole('list', { name: 'Problems' })
    expect(within(problems).getByText('steps.0.url')).toBeTruthy()
    expect(area.getAttribute('aria-invalid')).toBe('true')
    const urlLine = broken.split('\n').findIndex((l) => l.includes('"kind": "http"')) - 1
    expect(document.querySelectorAll('.gutter-error').length).toBeGreaterThan(0)
    expect(urlLine).toBeGreaterThan(0)

    const fixed = text({
      ...record.definition,
      steps: [{ id: 'a', kind: 'notify', title: '{{ secrets.nope }}' }],
    })
    fireEvent.change(area, { target: { value: fixed } })
    await waitFor(() => expect(screen.getByText('No problems found.')).toBeTruthy())
    await act(async () => screen.getByRole('button', { name: 'Save new version' }).click())
    expect(saved).toEqual([{ ...JSON.parse(fixed), id: 'wf' }])
    const serverIssue = await screen.findByText('unknown secret "nope"')
    expect(serverIssue.closest('li')!.textContent).toContain('(from the server)')
    expect(serverIssue.closest('li')!.textContent).toContain(
      `Line ${fixed.split('\n').findIndex((l) => l.includes('"title"')) + 1}`,
    )
    expect(view.app.system.store.getState().outcomes[0]).toMatchObject({ kind: 'error' })

    // Editing again clears the server's verdict: it was about the old text.
    fireEvent.change(area, { target: { value: fixed + ' ' } })
    expect(screen.queryByText('unknown secret "nope"')).toBeNull()
  })
})
