// A Serverless Framework plugin (listed in serverless.yml) that checks a stage before it is
// packaged or deployed: stage local never leaves this machine, an enabled schedule always
// carries a job of the operator's, never placeholder data, and a queue never hands a message to a
// second worker while the first may still be running it.

/** The part of the Serverless Framework a plugin sees that this one reads. */
interface ServerlessInstance {
  readonly processedInput: { readonly commands: readonly string[] }
  readonly service: {
    readonly provider: {
      readonly stage: string
      readonly timeout?: number
      readonly httpApi?: { readonly authorizers?: Record<string, { readonly issuerUrl?: unknown; readonly audience?: unknown }> }
    }
    readonly functions: Record<string, { readonly events?: readonly Record<string, unknown>[]; readonly timeout?: unknown }>
    readonly resources?: { readonly Resources?: Record<string, { readonly Properties?: Record<string, unknown> }> }
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
  const detail = (event as { detail?: { codes?: unknown; manifest?: unknown } } | null)?.detail
  const codes = detail?.codes
  const hasCodes = Array.isArray(codes) && codes.length > 0
  if (!hasCodes && typeof detail?.manifest !== 'string') {
    return (
      `function ${functionName}: the schedule is enabled (param scheduleEnabled) but param scheduleRequest names no codes and no manifest; ` +
      'set it to the job to run, e.g. {"manifest":"manifests/daily.txt"} or {"baseUrl":"https://images.example.com/flags","codes":["a","b"]}'
    )
  }
  return undefined
}

/**
 * Why the gallery's routes may not be shipped, or undefined: the bucket is private, so a route
 * under /gallery must have an authorizer, and a JWT authorizer needs its issuer and audience.
 */
export function galleryProblem(functionName: string, route: { readonly path?: unknown; readonly authorizer?: unknown }, authorizers: Record<string, { readonly issuerUrl?: unknown; readonly audience?: unknown }>): string | undefined {
  // The pages' style sheet and script hold no data, and a browser fetches them without a token.
  if (typeof route.path !== 'string' || !route.path.startsWith('/gallery') || route.path.startsWith('/gallery/assets/')) return undefined
  const name = typeof route.authorizer === 'object' && route.authorizer !== null ? (route.authorizer as { name?: unknown }).name : undefined
  if (typeof name !== 'string') {
    return `function ${functionName}: ${route.path} would be public on a deployed stage; set param galleryAccess to 'jwt' with galleryJwtIssuer and galleryJwtAudience, or leave it 'off'`
  }
  const authorizer = authorizers[name]
  const audience = [authorizer?.audience].flat()
  if (typeof authorizer?.issuerUrl !== 'string' || authorizer.issuerUrl === '' || audience.length === 0 || audience.some((value) => typeof value !== 'string' || value === '')) {
    return `function ${functionName}: the gallery's authorizer ${name} needs params galleryJwtIssuer (the OIDC issuer URL) and galleryJwtAudience`
  }
  return undefined
}

// AWS's advice for a queue feeding a Lambda function: a visibility timeout of at least six times
// the function's timeout, so a message is not delivered again while a worker may still hold it.
const VISIBILITY_PER_TIMEOUT = 6

/**
 * Why a function's queue could deliver a message again while the function may still be running
 * it, or undefined. `queueVisibility` is the queue's VisibilityTimeout in seconds.
 */
export function visibilityProblem(functionName: string, timeoutSeconds: number, queueName: string, queueVisibility: unknown): string | undefined {
  const visibility = Number(queueVisibility ?? 30)
  if (visibility >= VISIBILITY_PER_TIMEOUT * timeoutSeconds) return undefined
  return (
    `function ${functionName}: queue ${queueName} has a visibility timeout of ${visibility} s, under ${VISIBILITY_PER_TIMEOUT} times ` +
    `the function's timeout of ${timeoutSeconds} s; raise param jobsVisibilityTimeout (or lower workerTimeout)`
  )
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
        const { functions, provider, resources } = serverless.service
        for (const [name, fn] of Object.entries(functions)) {
          for (const event of fn.events ?? []) {
            if ('schedule' in event) {
              const scheduled = scheduleProblem(name, event['schedule'] as ScheduleEvent)
              if (scheduled !== undefined) refuse(scheduled)
            }
            if ('httpApi' in event) {
              const problem = galleryProblem(name, event['httpApi'] as { path?: unknown; authorizer?: unknown }, provider.httpApi?.authorizers ?? {})
              if (problem !== undefined) refuse(problem)
            }
            if ('sqs' in event && resources?.Resources?.[`${name.charAt(0).toUpperCase()}${name.slice(1)}DurationAlarm`] !== undefined) {
              const alarm = resources.Resources[`${name.charAt(0).toUpperCase()}${name.slice(1)}DurationAlarm`]?.Properties?.['Threshold']
              const problem = durationAlarmProblem(name, Number(fn.timeout ?? provider.timeout ?? 6), alarm)
              if (problem !== undefined) refuse(problem)
            }
            const queueName = 'sqs' in event ? queueOf(event['sqs']) : undefined
            if (queueName !== undefined) {
              const timeout = Number(fn.timeout ?? provider.timeout ?? 6)
              const problem = visibilityProblem(name, timeout, queueName, resources?.Resources?.[queueName]?.Properties?.['VisibilityTimeout'])
              if (problem !== undefined) refuse(problem)
            }
          }
        }
      },
    }
  }
}

/** Why a function's duration alarm is not at 80 % of its timeout (set apart, as the worker's is), or undefined. */
export function durationAlarmProblem(functionName: string, timeoutSeconds: number, thresholdMs: unknown): string | undefined {
  const expected = timeoutSeconds * 800
  if (Number(thresholdMs) === expected) return undefined
  return `function ${functionName}: its duration alarm is at ${String(thresholdMs)} ms, not 80 % of its ${timeoutSeconds} s timeout (${expected}); set param workerDurationAlarmMs to match workerTimeout`
}

/** The queue resource an sqs event names with `Fn::GetAtt: [Queue, Arn]`, if it names one of this service's. */
function queueOf(sqs: unknown): string | undefined {
  const arn = typeof sqs === 'object' && sqs !== null ? (sqs as { arn?: unknown }).arn : undefined
  const getAtt = typeof arn === 'object' && arn !== null ? (arn as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'] : undefined
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined
}
