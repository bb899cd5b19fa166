import type { Histogram } from './histogram'

export type Labels = Record<string, string>

/** One metric family in the text exposition format (version 0.0.4). */
export interface Family {
  name: string
  help: string
  type: 'counter' | 'gauge' | 'histogram'
  samples: Array<{ labels: Labels; value: number } | { labels: Labels; histogram: Histogram }>
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/**
 * Render families as Prometheus text: `# HELP` and `# TYPE` lines, then the samples, each family contiguous.
 * Label values are escaped (backslash, double quote, newline); HELP text escapes backslash and newline.
 */
export function renderPrometheus(families: Family[]): string {
  const lines: string[] = []
  for (const family of families) {
    if (!NAME.test(family.name)) throw new Error(`invalid metric name ${family.name}`)
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`)
    lines.push(`# TYPE ${family.name} ${family.type}`)
    for (const sample of family.samples) {
      if ('histogram' in sample) {
        for (const [bound, count] of sample.histogram.buckets()) {
          lines.push(`${family.name}_bucket${labels({ ...sample.labels, le: formatValue(bound) })} ${count}`)
        }
        lines.push(`${family.name}_sum${labels(sample.labels)} ${formatValue(sample.histogram.sum)}`)
        lines.push(`${family.name}_count${labels(sample.labels)} ${sample.histogram.count}`)
      } else {
        lines.push(`${family.name}${labels(sample.labels)} ${formatValue(sample.value)}`)
      }
    }
  }
  return lines.join('\n') + '\n'
}

function labels(set: Labels): string {
  const entries = Object.entries(set)
  if (entries.length === 0) return ''
  return (
    '{' +
    entries
      .map(([k, v]) => {
        if (!LABEL.test(k) || k.startsWith('__')) throw new Error(`invalid label name ${k}`)
        return `${k}="${escapeLabel(v)}"`
      })
      .join(',') +
    '}'
  )
}

export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

export function formatValue(n: number): string {
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  if (Number.isNaN(n)) return 'NaN'
  return String(n)
}
