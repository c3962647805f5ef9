import { Tracer } from '@aws-lambda-powertools/tracer'
import { Segment } from 'aws-xray-sdk-core'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { tracedPorts } from '../../../lib/adapters/tracing.ts'
import type { DownloadPorts } from '../../../lib/download/engine.ts'

const ports: DownloadPorts = {
  source: { get: async () => ({ status: 200, headers: {}, body: Readable.from([]), discard: async () => undefined }) },
  sink: {
    validatorsOf: async () => undefined,
    keysWithoutObject: async () => new Set(['k']),
    put: async () => {
      throw new Error('S3 said no')
    },
  },
}
const signal = new AbortController().signal

describe('Function: tracedPorts', () => {
  it('makes each origin request and S3 call a subsegment of the invocation, errors included', async () => {
    const segment = new Segment('invocation')
    // A tracer as Lambda's X-Ray context gives it: on, with the invocation's segment current.
    const tracer = Object.assign(new Tracer({ serviceName: 'imgpull' }), { isTracingEnabled: () => true, getSegment: () => segment })
    const traced = tracedPorts(ports, tracer)

    await traced.source.get({ url: 'https://img.example/a.jpg', signal })
    await traced.sink.validatorsOf('flags/a.jpg', signal)
    expect(await traced.sink.keysWithoutObject?.(['k'], signal)).toEqual(new Set(['k']))
    await expect(traced.sink.put({ key: 'k', body: Buffer.alloc(1), contentType: 'image/jpeg', validators: {} }, signal)).rejects.toThrow('S3 said no')

    const subsegments = (segment.subsegments ?? []) as unknown as { name: string; fault?: boolean; error?: boolean; end_time?: number }[]
    expect(subsegments.map((subsegment) => subsegment.name)).toEqual(['origin GET', 'S3 HEAD', 'S3 LIST', 'S3 PUT'])
    expect(subsegments.every((subsegment) => subsegment.end_time !== undefined)).toBe(true)
    expect(subsegments[3]?.fault === true || subsegments[3]?.error === true).toBe(true)
  })

  it('leaves the ports as they are with tracing off', () => {
    expect(tracedPorts(ports, new Tracer({ serviceName: 'imgpull', enabled: false }))).toBe(ports)
  })
})
