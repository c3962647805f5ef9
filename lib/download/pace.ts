import type { Outcome } from './report.ts'

/** How long a run's codes take from their origin slot to their end: what starting one more is expected to cost. */
export interface CodePace {
  /** The mean time of the codes finished so far; 0 before the first. */
  typicalMs(): number
  /** Counts a code that ended `ms` after it took its origin slot. */
  record(outcome: Outcome, ms: number): void
}

/** The pace of one run, from none of its codes finished. */
export function codePace(): CodePace {
  let finishedMs = 0
  let finished = 0
  return {
    typicalMs: () => (finished === 0 ? 0 : finishedMs / finished),
    record(outcome, ms) {
      // Codes cut short by the deadline say nothing about how long a download takes.
      if (outcome.status !== 'ok' && outcome.reason === 'deadline') return
      finishedMs += ms
      finished += 1
    },
  }
}
