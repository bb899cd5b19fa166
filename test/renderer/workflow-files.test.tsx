import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import type { WorkflowRecord } from '../../src/shared/domain'
import { WorkflowsView } from '../../src/renderer/src/components/workflows-view'
import { parseWorkflowFile, workflowFileName, workflowFileText } from '../../src/renderer/src/workflow-files'
import { renderWithApp } from './render-app'

afterEach(cleanup)

const doc = { id: 'deal-won', name: 'Deal won', trigger: { source: 'crm' }, steps: [] }
const record = (version: number): WorkflowRecord => ({
  id: 'deal-won',
  name: 'Deal won',
  enabled: true,
  version,
  trigger: { source: 'crm' },
  updatedAt: 1,
  definition: doc,
})

describe('workflow files', () => {
  it('writes pretty JSON under a safe name and reads it back', () => {
    expect(workflowFileName('deal won/../x')).toBe('deal-won-..-x.json')
    expect(parseWorkflowFile(workflowFileText(doc))).toEqual(doc)
  })

  it('refuses what is not one workflow object, saying why', () => {
    expect(() => parseWorkflowFile('{"id": ')).toThrow(/not JSON/)
    expect(() => parseWorkflowFile('[1, 2]')).toThrow(/one JSON object/)
    expect(() => parseWorkflowFile('{"name": "x"}')).toThrow(/no "id"/)
  })

  it('imports a new workflow with create, and a known one as its next version with put', async () => {
    const { fake, app } = renderWithApp(<WorkflowsView />, {
      'workflows.create': () => record(1),
      'workflows.put': () => record(2),
    })
    const input = screen.getByLabelText('Import a workflow from a JSON file') as HTMLInputElement
    const file = new File([JSON.stringify(doc)], 'deal-won.json', { type: 'application/json' })
    fireEvent.change(input, { target: { files: [file] } })
    await waitFor(() => expect(fake.calls.map((c) => c.name)).toContain('workflows.create'))
    expect(fake.calls.find((c) => c.name === 'workflows.create')!.args).toEqual(doc)
    // The imported workflow is listed, so the same file again is its next version.
    await waitFor(() => expect(app.catalog.store.getState().workflows.map((w) => w.id)).toEqual(['deal-won']))
    fireEvent.change(input, { target: { files: [file] } })
    await waitFor(() => expect(fake.calls.map((c) => c.name)).toContain('workflows.put'))
    expect(fake.calls.find((c) => c.name === 'workflows.put')!.args).toEqual(doc)
  })
})
