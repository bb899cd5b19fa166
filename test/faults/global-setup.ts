import { mergeFaultResults, resetFaultResults } from './fault-results'

/** Vitest global setup for `npm run test:faults`: clear old parts first; print and write the summary last. */
export default function setup(): () => void {
  resetFaultResults()
  return () => {
    const totals = mergeFaultResults()
    const names = Object.keys(totals.tests).join(', ') || 'none'
    console.log(
      `\nFault suite: ${totals.kills} kills, ${totals.events} events, ${totals.faults} faults, ` +
        `${totals.fuzzCases} fuzz cases, lost = ${totals.lost} (tests: ${names}) → test-results/faults.json`,
    )
  }
}
