import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Where each fault test leaves its figures; merged into test-results/faults.json after the suite. */
export const RESULTS_DIR = fileURLToPath(new URL('../../test-results', import.meta.url))
const PARTS_DIR = join(RESULTS_DIR, 'faults-parts')

/** The figures one fault test reports (counts, not times). */
export interface FaultPart {
  kills?: number
  events?: number
  faults?: number
  fuzzCases?: number
  lost: number
  details: Record<string, unknown>
}

/** Record one test's figures (each test file runs in its own worker, so they meet on disk). */
export function recordFaultResult(name: string, part: FaultPart): void {
  mkdirSync(PARTS_DIR, { recursive: true })
  writeFileSync(join(PARTS_DIR, `${name}.json`), JSON.stringify(part, null, 2))
}

/** Clear the parts of a previous run. */
export function resetFaultResults(): void {
  rmSync(PARTS_DIR, { recursive: true, force: true })
}

/** Merge the parts into test-results/faults.json and return the totals. */
export function mergeFaultResults(): {
  kills: number
  events: number
  faults: number
  fuzzCases: number
  lost: number
  tests: Record<string, FaultPart>
} {
  const tests: Record<string, FaultPart> = {}
  let files: string[]
  try {
    files = readdirSync(PARTS_DIR).filter((f) => f.endsWith('.json'))
  } catch {
    files = []
  }
  for (const file of files)
    tests[file.replace(/\.json$/, '')] = JSON.parse(readFileSync(join(PARTS_DIR, file), 'utf8')) as FaultPart
  const sum = (k: 'kills' | 'events' | 'faults' | 'fuzzCases' | 'lost') =>
    Object.values(tests).reduce((n, t) => n + (t[k] ?? 0), 0)
  const totals = {
    kills: sum('kills'),
    events: sum('events'),
    faults: sum('faults'),
    fuzzCases: sum('fuzzCases'),
    lost: sum('lost'),
    tests,
  }
  mkdirSync(RESULTS_DIR, { recursive: true })
  writeFileSync(
    join(RESULTS_DIR, 'faults.json'),
    JSON.stringify({ at: new Date().toISOString(), ...totals }, null, 2),
  )
  rmSync(PARTS_DIR, { recursive: true, force: true })
  return totals
}
