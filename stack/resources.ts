import { roleOf, roleResource, statementsOf, type Stores } from './access.ts'
import type { Resources } from './cloudFormation.ts'
import { queuesRead, timeoutOf, type FunctionEntry } from './functions.ts'
import { dashboard, functionAlarms, stackAlarms, type OperationsSettings } from './operations.ts'
import { dataResources, queueResources, VISIBILITY_PER_TIMEOUT, type QueueVisibility } from './storage.ts'

/** What the Serverless Framework hands a variable file's function. */
export interface VariableContext {
  readonly resolveConfigurationProperty: (path: readonly string[]) => Promise<unknown>
  readonly resolveVariable: (variable: string) => Promise<unknown>
}

/** The params and names the stack is derived from, besides the function list. */
export interface StackSettings extends Stores, OperationsSettings {
  readonly maxReceiveCount: number
  readonly apiThrottleRate: number
  readonly apiThrottleBurst: number
  readonly providerTimeout: number | string | undefined
}

/** Each queue read by a function hides a message six times as long as the longest function reading it runs. */
export function queueVisibility(functions: Readonly<Record<string, FunctionEntry>>, providerTimeout: StackSettings['providerTimeout']): QueueVisibility {
  const visibility: Record<string, number> = {}
  for (const fn of Object.values(functions)) {
    for (const queue of queuesRead(fn)) visibility[queue] = Math.max(visibility[queue] ?? 0, VISIBILITY_PER_TIMEOUT * timeoutOf(fn, providerTimeout))
  }
  return visibility
}

/** Every resource of the stack besides what the framework makes of the functions and their triggers. */
export function deriveStack(functions: Readonly<Record<string, FunctionEntry>>, settings: StackSettings) {
  const perFunction: Resources = {}
  for (const [name, fn] of Object.entries(functions)) {
    const functionName = `${settings.service}-${settings.stage}-${name}`
    perFunction[roleOf(name)] = roleResource(name, statementsOf(name, fn, functionName, settings), settings.service)
    Object.assign(perFunction, functionAlarms(name, timeoutOf(fn, settings.providerTimeout)))
  }
  return {
    Resources: {
      ...dataResources(settings),
      ...queueResources({ visibility: queueVisibility(functions, settings.providerTimeout), maxReceiveCount: settings.maxReceiveCount }),
      ...perFunction,
      ...stackAlarms(settings),
      ...dashboard(settings),
    },
    extensions: {
      // The API's throttle, for every route.
      HttpApiStage: {
        Properties: {
          DefaultRouteSettings: { DetailedMetricsEnabled: false, ThrottlingRateLimit: settings.apiThrottleRate, ThrottlingBurstLimit: settings.apiThrottleBurst },
        },
      },
    },
    Outputs: { ImagesBucketName: { Value: { Ref: 'ImagesBucket' } } },
  }
}

/** serverless.yml's `resources`, from its resolved function list and params. */
export async function stackResources({ resolveConfigurationProperty, resolveVariable }: VariableContext) {
  const param = async (name: string) => resolveVariable(`param:${name}`)
  const text = async (name: string) => {
    const value = await param(name)
    return typeof value === 'string' ? value : ''
  }
  const functions = ((await resolveConfigurationProperty(['functions'])) ?? {}) as Record<string, FunctionEntry>
  return deriveStack(functions, {
    service: String(await resolveConfigurationProperty(['service'])),
    stage: String(await resolveVariable('sls:stage')),
    providerTimeout: (await resolveConfigurationProperty(['provider', 'timeout'])) as number | undefined,
    keyPrefix: await text('keyPrefix'),
    manifestPrefix: await text('manifestPrefix'),
    reportPrefix: await text('reportPrefix'),
    planPrefix: await text('planPrefix'),
    alarmEmail: await text('alarmEmail'),
    alarmErrorRate: Number(await param('alarmErrorRate')),
    alarmOldestChunkSeconds: Number(await param('alarmOldestChunkSeconds')),
    maxReceiveCount: Number(await param('maxReceiveCount')),
    apiThrottleRate: Number(await param('apiThrottleRate')),
    apiThrottleBurst: Number(await param('apiThrottleBurst')),
  })
}
