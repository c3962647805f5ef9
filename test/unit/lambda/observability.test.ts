import { MetricUnit } from '@aws-lambda-powertools/metrics'
import type { APIGatewayProxyEventV2, Context, SQSEvent } from 'aws-lambda'
import { describe, expect, it, vi, type MockInstance } from 'vitest'
import { httpApiHandler } from '../../../lib/lambda/httpPages.ts'
import { multiTriggerHandler } from '../../../lib/lambda/multiTrigger.ts'
import { observability, type TracedObservability } from '../../../lib/lambda/observability.ts'
import { jsonResponse } from '../../../lib/lambda/responses.ts'
import { sqsBatchHandler } from '../../../lib/lambda/sqsBatch.ts'
import { sharedEvent } from '../../support/events.ts'
import { loggedLines } from '../../support/loggedLines.ts'

const context = {
  functionName: 'imgpull-test-observed',
  awsRequestId: 'observed-request',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context

/**
 * A traced preset whose tracer acts as Lambda's X-Ray context makes it act (on, with the
 * invocation's segment current), and a record of when each part of the preset ran.
 */
function recordedPreset() {
  const observed = observability({ metricsNamespace: 'imgpull-test', traced: true })
  const handlerSegment = { close: vi.fn() }
  const segment = { addNewSubsegment: vi.fn(() => handlerSegment) }
  Object.assign(observed.tracer, {
    isTracingEnabled: () => true,
    getSegment: () => segment,
    setSegment: vi.fn(),
    annotateColdStart: vi.fn(),
    addServiceNameAnnotation: vi.fn(),
  })
  const spies: Record<string, MockInstance> = {
    'trace opened': segment.addNewSubsegment,
    'logger context added': vi.spyOn(observed.logger, 'addContext'),
    'metrics flushed': vi.spyOn(observed.metrics, 'publishStoredMetrics'),
    'logger keys reset': vi.spyOn(observed.logger, 'resetKeys'),
    'trace closed': handlerSegment.close,
  }
  const core = vi.fn(() => {
    observed.metrics.addMetric('ok', MetricUnit.Count, 1)
    observed.logger.info('inside')
  })
  spies['core'] = core
  const order = () =>
    Object.entries(spies)
      .flatMap(([name, spy]) => spy.mock.invocationCallOrder.map((at) => [at, name] as const))
      .sort(([a], [b]) => a - b)
      .map(([, name]) => name)
  return { observed, core, order }
}

const EXPECTED_ORDER = ['trace opened', 'logger context added', 'core', 'metrics flushed', 'logger keys reset', 'trace closed']

type Wrapped = (event: unknown, context: Context) => Promise<unknown>

const wrappers: [string, (observed: TracedObservability, core: () => void) => Wrapped, () => Promise<unknown>][] = [
  [
    'multiTriggerHandler',
    (observed, core) => multiTriggerHandler(async () => core(), { maxBodyBytes: 1024, observability: observed }),
    async () => ({ codes: ['a'] }),
  ],
  [
    'sqsBatchHandler',
    (observed, core) => sqsBatchHandler(async () => core(), { observability: observed }),
    async () => {
      const batch = await sharedEvent<SQSEvent>('sqs-batch')
      return { Records: batch.Records.slice(0, 1) }
    },
  ],
  [
    'httpApiHandler',
    (observed, core) =>
      httpApiHandler(
        () => {
          core()
          return jsonResponse(200, {})
        },
        { observability: observed },
      ) as Wrapped,
    () => sharedEvent<APIGatewayProxyEventV2>('web-index'),
  ],
]

describe('Function: observability', () => {
  it('gives every function a logger context, metrics only with a namespace, and a tracer only where it traces', () => {
    const logged = observability()
    expect(logged.middlewares).toHaveLength(1)
    expect(logged).not.toHaveProperty('metrics')
    expect(logged).not.toHaveProperty('tracer')
    const metered = observability({ metricsNamespace: 'imgpull' })
    expect(metered.middlewares).toHaveLength(2)
    expect(metered).not.toHaveProperty('tracer')
    expect(observability({ metricsNamespace: 'imgpull', traced: true }).middlewares).toHaveLength(3)
  })

  it.each(wrappers)('is applied by %s around everything else: the trace outermost, then the logger context, then the metrics', async (_, wrap, eventOf) => {
    const { observed, core, order } = recordedPreset()
    const handler = wrap(observed, core)
    const event = await eventOf()
    const lines = await loggedLines(async () => {
      await handler(event, context)
    })
    expect(core).toHaveBeenCalledTimes(1)
    expect(order()).toEqual(EXPECTED_ORDER)
    // Every line of the invocation names it; the metrics of the invocation are published once.
    expect(lines.find((line) => line['message'] === 'inside')).toMatchObject({ function_request_id: 'observed-request', function_name: 'imgpull-test-observed' })
    expect(lines.filter((line) => '_aws' in line)).toEqual([expect.objectContaining({ ok: 1 })])
  })

  it('reports an unexpected failure through its logger, which the multi-trigger wrapper uses unless told otherwise', async () => {
    const observed = observability()
    const handler = multiTriggerHandler(
      async () => {
        throw new Error('disk on fire')
      },
      { maxBodyBytes: 1024, observability: observed },
    )
    const http = await sharedEvent<APIGatewayProxyEventV2>('download-http')
    const lines = await loggedLines(async () => {
      expect(await handler(http, context)).toMatchObject({ statusCode: 500 })
    })
    expect(lines).toEqual([expect.objectContaining({ level: 'ERROR', message: 'unexpected failure', function_request_id: 'observed-request' })])
    expect(JSON.stringify(lines[0])).toContain('disk on fire')
  })
})
