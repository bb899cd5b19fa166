/** One figure of `npm run bench`, beside the baseline measured in the same run. Shared by every bench section. */
export interface BenchRow {
  name: string
  value: number
  unit: string
  baseline?: { name: string; value: number }
  /** value / baseline.value, or another ratio the row names in its note. */
  ratio?: number
  note?: string
}

/** A whole bench run as written to `bench/results/latest.json`. */
export interface BenchResult {
  at: string
  machine: string
  command: string
  notes: string[]
  sections: Array<{ title: string; rows: BenchRow[] }>
}

/** A figure that could not be measured (its prerequisite is missing): value NaN, the reason in the note. */
export function unavailable(name: string, unit: string, reason: string): BenchRow {
  return { name, value: Number.NaN, unit, note: reason }
}

export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a'
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2
  return `${value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })} ${unit}`.trim()
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ')
}

/**
 * Render the run as one markdown table (plus its notes). With `previous`, a "change" column shows each
 * figure's relative change against the row of the same name in the previous result.
 */
export function renderMarkdown(result: BenchResult, previous?: BenchResult): string {
  const before = new Map<string, BenchRow>()
  for (const section of previous?.sections ?? []) for (const row of section.rows) before.set(row.name, row)
  const header = [
    'figure',
    'value',
    'baseline (same run)',
    'ratio',
    ...(previous ? ['change vs previous'] : []),
    'note',
  ]
  const lines = [
    `# Switchboard bench — ${result.at}`,
    '',
    `Machine: ${result.machine}  `,
    `Command: \`${result.command}\``,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
  ]
  for (const section of result.sections) {
    lines.push(`| **${cell(section.title)}** |${' |'.repeat(header.length - 1)}`)
    for (const row of section.rows) {
      const old = before.get(row.name)
      const change =
        old && Number.isFinite(old.value) && Number.isFinite(row.value) && old.value !== 0
          ? `${row.value >= old.value ? '+' : ''}${(((row.value - old.value) / old.value) * 100).toFixed(1)}% (was ${formatValue(old.value, old.unit)})`
          : old
            ? 'n/a'
            : 'new'
      lines.push(
        `| ${[
          cell(row.name),
          formatValue(row.value, row.unit),
          row.baseline ? `${cell(row.baseline.name)}: ${formatValue(row.baseline.value, row.unit)}` : '',
          row.ratio !== undefined && Number.isFinite(row.ratio) ? row.ratio.toFixed(2) : '',
          ...(previous ? [change] : []),
          cell(row.note ?? ''),
        ].join(' | ')} |`,
      )
    }
  }
  if (result.notes.length) lines.push('', ...result.notes.map((n) => `- ${n}`))
  return lines.join('\n') + '\n'
}

/** JSON for `latest.json`: NaN (unmeasured) becomes null so the file stays valid JSON. */
export function toJson(result: BenchResult): string {
  return JSON.stringify(
    result,
    (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value),
    2,
  )
}

/** Read a previous `latest.json` (null values back to NaN). */
export function fromJson(text: string): BenchResult {
  const parsed = JSON.parse(text) as BenchResult
  for (const section of parsed.sections)
    for (const row of section.rows) if (row.value === null) row.value = Number.NaN
  return parsed
}
