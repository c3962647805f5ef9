import type { Tracer } from '@aws-lambda-powertools/tracer'
import type { DownloadPorts } from '../download/engine.ts'

/**
 * The download's ports with each origin request (to its headers), each S3 look-up, listing and
 * upload a subsegment of the invocation's X-Ray trace. Subsegments hang off the invocation's
 * segment directly, since a run makes many at once; with tracing off the ports are as they were.
 */
export function tracedPorts(ports: DownloadPorts, tracer: Tracer): DownloadPorts {
  if (!tracer.isTracingEnabled()) return ports
  const traced = async <T>(name: string, call: () => Promise<T>): Promise<T> => {
    const segment = tracer.getSegment()
    if (segment === undefined) return call()
    const subsegment = segment.addNewSubsegment(name)
    try {
      return await call()
    } catch (error) {
      subsegment.addError(error as Error)
      throw error
    } finally {
      subsegment.close()
    }
  }
  const { source, sink } = ports
  return {
    source: { get: (request) => traced('origin GET', () => source.get(request)) },
    sink: {
      validatorsOf: (key, signal) => traced('S3 HEAD', () => sink.validatorsOf(key, signal)),
      put: (object, signal) => traced('S3 PUT', () => sink.put(object, signal)),
      ...(sink.keysWithoutObject === undefined
        ? {}
        : { keysWithoutObject: (keys: readonly string[], signal: AbortSignal) => traced('S3 LIST', () => sink.keysWithoutObject!(keys, signal)) }),
    },
  }
}
