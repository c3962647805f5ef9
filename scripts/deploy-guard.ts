// A Serverless Framework plugin (listed in serverless.yml) that checks a stage before it is
// packaged or deployed: stage local never leaves this machine, and an enabled schedule always
// carries a batch of the operator's, never placeholder data.

/** The part of the Serverless Framework a plugin sees that this one reads. */
interface ServerlessInstance {
  readonly processedInput: { readonly commands: readonly string[] }
  readonly service: {
    readonly provider: { readonly stage: string }
    readonly functions: Record<string, { readonly events?: readonly Record<string, unknown>[] }>
  }
  readonly classes: { readonly Error: new (message: string) => Error }
}

interface ScheduleEvent {
  readonly enabled?: unknown
  readonly inputTransformer?: { readonly inputTemplate?: unknown }
}

const LOCAL_STAGE = 'local'
// Every command that builds a deployment artifact or sends one to AWS.
const SHIPPING_COMMANDS = new Set(['package', 'deploy'])

/** Why a stage may not be shipped, or undefined when it may. */
export function stageProblem(stage: string): string | undefined {
  if (stage !== LOCAL_STAGE) return undefined
  return (
    'Stage "local" only runs on this machine (npm start, serverless offline, serverless invoke local): it allows ' +
    'plain-http and loopback origins and points at the loopback S3. Name a deployed stage, e.g. ' +
    '"serverless deploy --stage dev" or "--stage prod".'
  )
}

/**
 * Why a schedule event may not be shipped, or undefined. Its input template must be JSON once
 * EventBridge has filled in its placeholders, and an enabled schedule must carry the operator's
 * batch (a download request with its own codes) as the event's `detail`.
 */
export function scheduleProblem(functionName: string, schedule: ScheduleEvent): string | undefined {
  const template = schedule.inputTransformer?.inputTemplate
  if (typeof template !== 'string') return `function ${functionName}: its schedule must pass the batch through inputTransformer`
  let event: unknown
  try {
    // EventBridge replaces each <placeholder> with a JSON value.
    event = JSON.parse(template.replaceAll(/<[A-Za-z0-9_.-]+>/g, 'null'))
  } catch {
    return `function ${functionName}: param scheduleRequest must be a JSON object: the download request the schedule runs`
  }
  if (schedule.enabled !== true) return undefined
  const detail = (event as { detail?: { codes?: unknown } } | null)?.detail
  const codes = detail?.codes
  if (!Array.isArray(codes) || codes.length === 0) {
    return (
      `function ${functionName}: the schedule is enabled (param scheduleEnabled) but param scheduleRequest names no codes; ` +
      'set it to the batch to run, e.g. {"baseUrl":"https://images.example.com/flags","codes":["a","b"]}'
    )
  }
  return undefined
}

export default class DeployGuard {
  readonly hooks: Record<string, () => void>

  constructor(serverless: ServerlessInstance) {
    const refuse = (message: string) => {
      throw new serverless.classes.Error(message)
    }
    this.hooks = {
      // The first step of every command, before anything is built or sent.
      initialize: () => {
        if (!SHIPPING_COMMANDS.has(serverless.processedInput.commands[0] ?? '')) return
        const problem = stageProblem(serverless.service.provider.stage)
        if (problem !== undefined) refuse(problem)
        for (const [name, fn] of Object.entries(serverless.service.functions)) {
          for (const event of fn.events ?? []) {
            if (!('schedule' in event)) continue
            const scheduled = scheduleProblem(name, event['schedule'] as ScheduleEvent)
            if (scheduled !== undefined) refuse(scheduled)
          }
        }
      },
    }
  }
}
