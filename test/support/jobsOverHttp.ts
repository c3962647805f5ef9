import { expect } from 'vitest'
import type { JobStatus } from '../../lib/jobs/job.ts'
import type { ChunkMessage } from '../../lib/jobs/messages.ts'
import type { LocalStack } from './localStack.ts'
import { until } from './processTree.ts'

// The jobs path's short timeouts in the end-to-end tests, so that what AWS does in minutes (a
// redelivery, a dead letter) takes seconds: the worker may run 6 s, a message is invisible for 8 s
// after it is taken, and a chunk goes to the dead-letter queue after 3 deliveries (a delivery
// lost to a worker killed with its serverless-offline is one of them).
export const JOBS_TEST_PARAMS = { workerTimeout: '6' }
export const JOBS_TEST_QUEUE = { visibilityTimeoutSeconds: 8, maxReceiveCount: 3, deadLetterVisibilityTimeoutSeconds: 8 }

const sum = (job: JobStatus) => job.counter.ok + job.counter.not_found + job.counter.error

/** What must hold of every finished job: every chunk counted, every code once. */
export function expectFinished(job: JobStatus): void {
  expect(job).toMatchObject({ state: 'done', chunksDone: job.chunks })
  expect(sum(job)).toBe(job.total)
}

/** A file's jobs over HTTP, on its local stack (read when called: the stack starts in a hook). */
export function jobsOverHttp(stackOf: () => LocalStack) {
  const post = async (path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
    const response = await fetch(`${stackOf().offline.httpUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: response.status, json: (await response.json()) as Record<string, unknown> }
  }
  const jobStatus = async (jobId: string): Promise<JobStatus> => (await (await fetch(`${stackOf().offline.httpUrl}/jobs/${jobId}`)).json()) as JobStatus
  const untilDone = async (jobId: string, timeoutMs: number): Promise<JobStatus> => {
    let job: JobStatus | undefined
    await until(`job ${jobId} to be done`, async () => (job = await jobStatus(jobId)).state === 'done', timeoutMs)
    return job!
  }
  /** The message of a job's chunk as its fan-out sent it: its line of the stored plan. */
  const chunkMessageOf = async (jobId: string, chunk: number): Promise<ChunkMessage> => {
    const { s3 } = stackOf()
    const [offsetsKey] = (await s3.listKeys(`plans/${jobId}/`)).filter((key) => key.endsWith('.offsets.json'))
    const offsets = JSON.parse((await s3.getObject(String(offsetsKey)))?.body.toString() ?? '[]') as number[]
    return { kind: 'chunk', jobId, chunk, part: 0, start: offsets[chunk] ?? 0, end: offsets[chunk + 1] ?? 0 }
  }
  /** Invokes the jobs function as EventBridge's schedule does, with the rule's event. */
  const scheduled = async (eventId: string, detail: unknown): Promise<Record<string, unknown>> => {
    const event = { version: '0', id: eventId, 'detail-type': 'Scheduled Event', source: 'aws.events', account: '000000000000', time: new Date().toISOString(), region: 'us-east-1', resources: [], detail }
    const response = await fetch(`${stackOf().offline.lambdaUrl}/2015-03-31/functions/imgpull-local-jobs/invocations`, { method: 'POST', body: JSON.stringify(event) })
    return (await response.json()) as Record<string, unknown>
  }
  return { post, jobStatus, untilDone, chunkMessageOf, scheduled }
}
