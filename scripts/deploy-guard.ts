// A Serverless Framework plugin (listed in serverless.yml) that checks what an operator types
// before a stage is packaged or deployed: stage local never leaves this machine, an enabled
// schedule always carries a job of the operator's, never placeholder data, the gallery never
// goes out without its authorizer, and the worker concurrency is one Lambda takes. What follows from other values (queue visibility, alarm
// thresholds) is derived by stack/, not checked.

/** The part of the Serverless Framework a plugin sees that this one reads. */
interface ServerlessInstance {
  readonly processedInput: { readonly commands: readonly string[]; readonly options: { readonly stage?: unknown; readonly param?: readonly string[] } }
  /** serverless.yml as read, its variables not yet resolved when plugins are made. */
  readonly configurationInput?: { readonly params?: Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>> }
  readonly service: {
    readonly provider: {
      readonly stage: string
      readonly httpApi?: { readonly authorizers?: Record<string, { readonly issuerUrl?: unknown; readonly audience?: unknown }> }
    }
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

// Lambda takes an SQS event source's maximum concurrency from 2 to 1000, and refuses the deploy otherwise.
const MIN_QUEUE_CONCURRENCY = 2
const MAX_QUEUE_CONCURRENCY = 1000

/**
 * Why a worker concurrency may not be shipped, or undefined: it is the maximum concurrency of the
 * worker's SQS event source. A value still holding a variable is left to the framework's own check.
 */
export function workerConcurrencyProblem(value: unknown): string | undefined {
  if (value === undefined || (typeof value === 'string' && value.includes('${'))) return undefined
  const concurrency = Number(value)
  if (Number.isInteger(concurrency) && concurrency >= MIN_QUEUE_CONCURRENCY && concurrency <= MAX_QUEUE_CONCURRENCY) return undefined
  return (
    `param workerConcurrency must be an integer from ${MIN_QUEUE_CONCURRENCY} to ${MAX_QUEUE_CONCURRENCY}, got ${JSON.stringify(value)}: ` +
    "it is the maximum concurrency of the worker's SQS event source, which Lambda takes from 2 to 1000 (and refuses the deploy otherwise)"
  )
}

/**
 * A param's value for a stage as the framework resolves it, before it has: the last --param of that
 * name, else the stage's own, else the default's.
 */
export function paramOf(name: string, stage: string, cliParams: readonly string[], params: Readonly<Record<string, Readonly<Record<string, unknown>> | undefined>>): unknown {
  const given = cliParams.filter((item) => item.startsWith(`${name}=`)).at(-1)
  if (given !== undefined) return given.slice(name.length + 1).trimEnd()
  return params[stage]?.[name] ?? params['default']?.[name]
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

export default class DeployGuard {
  readonly hooks: Record<string, () => void>

  constructor(serverless: ServerlessInstance) {
    const refuse = (message: string) => {
      throw new serverless.classes.Error(message)
    }
    const shipping = SHIPPING_COMMANDS.has(serverless.processedInput.commands[0] ?? '')
    // The framework checks the resolved serverless.yml against its schema before any hook, and would
    // refuse a worker concurrency of 1 without naming the param: it is checked here, as the plugin is made.
    if (shipping) {
      const { options } = serverless.processedInput
      const stage = typeof options.stage === 'string' ? options.stage : serverless.service.provider.stage
      const problem = workerConcurrencyProblem(paramOf('workerConcurrency', stage, options.param ?? [], serverless.configurationInput?.params ?? {}))
      if (problem !== undefined) refuse(problem)
    }
    this.hooks = {
      // The first step of every command, before anything is built or sent.
      initialize: () => {
        if (!shipping) return
        const problem = stageProblem(serverless.service.provider.stage)
        if (problem !== undefined) refuse(problem)
        const { functions, provider } = serverless.service
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
          }
        }
      },
    }
  }
}
