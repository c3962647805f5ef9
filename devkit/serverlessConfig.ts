import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import type { QueueSettings } from './localJobs.ts'

const run = promisify(execFile)
const projectRoot = fileURLToPath(new URL('..', import.meta.url))
const serverlessBin = fileURLToPath(new URL('../node_modules/serverless/bin/serverless.js', import.meta.url))

/** How one function consumes its queue, as its sqs event says. */
export interface ConsumerSettings {
  readonly functionName: string
  readonly batchSize: number
  readonly maxConcurrency: number
  readonly timeoutSeconds: number
}

/** What the local stack must honour of the template: the jobs queue, and the two functions on it and its dead letters. */
export interface LocalJobsSettings {
  readonly queue: QueueSettings
  readonly worker: ConsumerSettings
  readonly deadLetters: ConsumerSettings
}

interface PrintedFunction {
  readonly name: string
  readonly timeout?: number
  readonly events?: readonly { readonly sqs?: { readonly batchSize?: number; readonly maximumConcurrency?: number } }[]
}

interface PrintedConfig {
  readonly functions: Record<string, PrintedFunction>
  readonly resources: { readonly Resources: Record<string, { readonly Properties: Record<string, unknown> }> }
}

// Lambda's defaults for an SQS event source: ten messages a batch; no cap on concurrency, which a
// laptop stands in for with two.
const DEFAULT_BATCH_SIZE = 10
const LOCAL_UNCAPPED_CONCURRENCY = 2

/**
 * The jobs settings of a stage, read from serverless.yml as the Serverless CLI resolves it, so
 * the local stack runs the queue and its consumers as the template configures them on AWS.
 */
export async function localJobsSettings(stage = 'local', params: Record<string, string> = {}): Promise<LocalJobsSettings> {
  const paramArgs = Object.entries(params).map(([key, value]) => `--param=${key}=${value}`)
  const { stdout } = await run(process.execPath, [serverlessBin, 'print', '--stage', stage, ...paramArgs, '--format', 'json'], {
    cwd: projectRoot,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1' },
    maxBuffer: 16 * 1024 * 1024,
  })
  return jobsSettingsOf(JSON.parse(stdout) as PrintedConfig)
}

/** The settings, from a resolved configuration. */
export function jobsSettingsOf(config: PrintedConfig): LocalJobsSettings {
  const queue = config.resources.Resources['JobsQueue']?.Properties ?? {}
  const deadLetterQueue = config.resources.Resources['JobsDeadLetterQueue']?.Properties ?? {}
  const redrive = queue['RedrivePolicy'] as { maxReceiveCount?: unknown } | undefined
  return {
    queue: {
      visibilityTimeoutSeconds: Number(queue['VisibilityTimeout'] ?? 30),
      maxReceiveCount: Number(redrive?.maxReceiveCount ?? 3),
      deadLetterVisibilityTimeoutSeconds: Number(deadLetterQueue['VisibilityTimeout'] ?? 30),
    },
    worker: consumerOf(config.functions['worker']),
    deadLetters: consumerOf(config.functions['deadLetters']),
  }
}

function consumerOf(fn: PrintedFunction | undefined): ConsumerSettings {
  if (fn === undefined) throw new Error('serverless.yml has no jobs functions (worker, deadLetters)')
  const sqs = fn.events?.find((event) => event.sqs !== undefined)?.sqs
  return {
    functionName: fn.name,
    batchSize: Number(sqs?.batchSize ?? DEFAULT_BATCH_SIZE),
    maxConcurrency: Number(sqs?.maximumConcurrency ?? LOCAL_UNCAPPED_CONCURRENCY),
    timeoutSeconds: Number(fn.timeout ?? 6),
  }
}
