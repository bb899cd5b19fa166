import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
  startTime: number
  endTime: number
}

export interface ProfileLine {
  where: string
  selfMs: number
  totalMs: number
  selfShare: number
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame
  const file = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url || '(native)'
  return `${file}:${lineNumber + 1} ${functionName || '(anonymous)'}`
}

/**
 * Summarize a V8 `.cpuprofile` (from the inspector's Profiler.stop or node --cpu-prof): self time per function, and total (inclusive) time for the
 * project's own functions (src/), so a report can say which file:function costs what.
 */
export function summarizeProfile(
  file: string,
  top = 25,
): { self: ProfileLine[]; ownTotal: ProfileLine[]; totalMs: number } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const selfUs = new Map<number, number>()
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const totalUs = profile.endTime - profile.startTime
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!
    self.set(label(node), (self.get(label(node)) ?? 0) + us)
    const seen = new Set<string>()
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!)
      if (seen.has(l)) continue
      seen.add(l)
      inclusive.set(l, (inclusive.get(l) ?? 0) + us)
    }
  }
  const line = (where: string): ProfileLine => ({
    where,
    selfMs: (self.get(where) ?? 0) / 1000,
    totalMs: (inclusive.get(where) ?? 0) / 1000,
    selfShare: (self.get(where) ?? 0) / totalUs,
  })
  return {
    self: [...self.keys()]
      .map(line)
      .sort((x, y) => y.selfMs - x.selfMs)
      .slice(0, top),
    ownTotal: [...inclusive.keys()]
      .filter((w) => w.startsWith('src/'))
      .map(line)
      .sort((x, y) => y.totalMs - x.totalMs)
      .slice(0, top),
    totalMs: totalUs / 1000,
  }
}

/** The newest `.cpuprofile` in a folder (bench/ingest-server.ts writes one per profiled run). */
export function newestProfile(dir: string): string | null {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => ({ file: join(dir, f), mtime: statSync(join(dir, f)).mtimeMs }))
    .sort((x, y) => x.mtime - y.mtime)
  return files.at(-1)?.file ?? null
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const target = process.argv[2]
  if (!target) throw new Error('usage: tsx bench/profile-summary.ts <file.cpuprofile | folder>')
  const file = target.endsWith('.cpuprofile') ? target : newestProfile(target)
  if (!file) throw new Error(`no .cpuprofile in ${target}`)
  const summary = summarizeProfile(file)
  console.log(`${file}: ${summary.totalMs.toFixed(0)} ms profiled`)
  console.log('\nself time:')
  for (const l of summary.self)
    console.log(
      `  ${l.selfMs.toFixed(0).padStart(7)} ms ${(l.selfShare * 100).toFixed(1).padStart(5)}%  ${l.where}`,
    )
  console.log('\ninclusive time, project functions:')
  for (const l of summary.ownTotal) console.log(`  ${l.totalMs.toFixed(0).padStart(7)} ms  ${l.where}`)
}
