/**
 * `npm run bench [-- --quick] [--compare <file.json>] [--profile]`: one table, each figure beside a baseline
 * measured in the same run, printed and written to bench/results/latest.md and latest.json.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { runIngestBench } from './ingest'
import { runMemoryBench } from './memory'
import { newestProfile, summarizeProfile } from './profile-summary'
import { runSearchUnderFloodBench } from './search-under-flood'
import { fromJson, renderMarkdown, toJson, unavailable, type BenchResult, type BenchRow } from './table'
import { runWorkflowBench } from './workflow'

const RESULTS = fileURLToPath(new URL('./results', import.meta.url))
const FRAMES = fileURLToPath(new URL('../test-results/feed-frames.json', import.meta.url))
const BACKLOG = fileURLToPath(new URL('./backlog.ts', import.meta.url))

async function section(
  title: string,
  run: () => Promise<BenchRow[]>,
): Promise<{ title: string; rows: BenchRow[] }> {
  process.stdout.write(`… ${title}\n`)
  try {
    return { title, rows: await run() }
  } catch (error) {
    return { title, rows: [unavailable(title, '', `failed: ${(error as Error).message.slice(0, 200)}`)] }
  }
}

/** The feed's frame times written by the UI engineer's e2e test (test-results/feed-frames.json), when present. */
function frameRows(): BenchRow[] {
  if (!existsSync(FRAMES)) {
    return [
      unavailable(
        'feed frame times',
        'ms',
        'n/a (test-results/feed-frames.json not written; run npm run test:e2e)',
      ),
    ]
  }
  type Frames = {
    frames?: number
    p50Ms?: number
    p95Ms?: number
    p99Ms?: number
    maxMs?: number
    achievedPerSecond?: number
    events?: number
  }
  const data = JSON.parse(readFileSync(FRAMES, 'utf8')) as {
    storedEvents?: number
    burst?: Frames
    scroll?: Frames
  }
  const budget = 1000 / 60
  const rows: BenchRow[] = []
  for (const [label, part] of [
    ['burst', data.burst],
    ['scroll', data.scroll],
  ] as const) {
    if (!part) continue
    const note =
      label === 'burst'
        ? `${part.events ?? '?'} events sent at ${part.achievedPerSecond ?? '?'}/s achieved (target 1,000/s); ${part.frames ?? '?'} frames`
        : `${part.frames ?? '?'} frames over ${data.storedEvents ?? '?'} stored events`
    rows.push({
      name: `feed frame time p50 (${label})`,
      value: part.p50Ms ?? Number.NaN,
      unit: 'ms',
      baseline: { name: '60 fps budget', value: budget },
      note,
    })
    rows.push({
      name: `feed frame time p99 (${label})`,
      value: part.p99Ms ?? Number.NaN,
      unit: 'ms',
      baseline: { name: '60 fps budget', value: budget },
    })
    rows.push({
      name: `feed frame time max (${label})`,
      value: part.maxMs ?? Number.NaN,
      unit: 'ms',
      baseline: { name: '60 fps budget', value: budget },
    })
  }
  return rows.length
    ? rows
    : [unavailable('feed frame times', 'ms', 'n/a (feed-frames.json has no burst or scroll figures)')]
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean' }, compare: { type: 'string' }, profile: { type: 'boolean' } },
    strict: true,
  })
  const quick = values.quick === true
  mkdirSync(RESULTS, { recursive: true })
  const profileDir = values.profile ? join(RESULTS, 'profiles') : undefined
  const notes: string[] = []
  const sections: BenchResult['sections'] = []

  sections.push(
    await section('Ingest (issue 2)', async () => {
      const ingest = await runIngestBench({
        rounds: quick ? 1 : 5,
        roundMs: quick ? 1500 : 8000,
        pacedMs: quick ? 2000 : 8000,
        connections: 50,
        profileDir,
      })
      notes.push(...ingest.notes)
      return ingest.rows
    }),
  )
  if (profileDir) {
    const file = newestProfile(profileDir)
    if (file) {
      const summary = summarizeProfile(file)
      notes.push(
        `CPU profile of (c): ${summary.ownTotal
          .slice(0, 6)
          .map((l) => `${l.where} ${l.totalMs.toFixed(0)} ms`)
          .join('; ')}`,
      )
    }
  }
  sections.push(
    await section('Workflows', () => runWorkflowBench({ events: quick ? 200 : 2000, connections: 20 })),
  )
  sections.push(
    await section('Backlog (observability)', async () => {
      if (!existsSync(BACKLOG))
        return [unavailable('backlog figures', '', 'n/a (bench/backlog.ts not written yet)')]
      const mod = (await import(pathToFileURL(BACKLOG).href)) as {
        runBacklogBench?: () => Promise<BenchRow[]>
      }
      if (!mod.runBacklogBench)
        return [unavailable('backlog figures', '', 'n/a (bench/backlog.ts exports no runBacklogBench)')]
      return mod.runBacklogBench()
    }),
  )
  sections.push(
    await section('Search during a flood (observability)', () =>
      runSearchUnderFloodBench({ floodMs: quick ? 8000 : 16_000 }),
    ),
  )
  sections.push(
    await section('Memory (headless server, child process RSS)', () =>
      runMemoryBench({ sustainMs: quick ? 3000 : 30_000, stored: quick ? 100_000 : 1_000_000 }),
    ),
  )
  sections.push(await section('Feed (UI)', async () => frameRows()))

  const result: BenchResult = {
    at: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}`,
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    notes,
    sections,
  }
  const previous = values.compare ? fromJson(readFileSync(values.compare, 'utf8')) : undefined
  const markdown = renderMarkdown(result, previous)
  writeFileSync(join(RESULTS, 'latest.md'), markdown)
  writeFileSync(join(RESULTS, 'latest.json'), toJson(result))
  process.stdout.write('\n' + markdown)
}

main().catch((error: Error) => {
  console.error(error)
  process.exit(1)
})
