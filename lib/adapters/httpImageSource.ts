import { Agent, request, type Dispatcher } from 'undici'
import type { ImageSource } from '../download/ports.ts'

// Enough to read a typical error page so the connection can be reused; larger ones are cut off.
const DISCARD_LIMIT_BYTES = 128 * 1024

/** A keep-alive connection pool for origins, built once per container and shared by invocations. */
export function createOriginAgent(): Agent {
  return new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000 })
}

/** An ImageSource that GETs images over HTTP(S) through the given pool, streaming the body. */
export function httpImageSource(dispatcher: Dispatcher): ImageSource {
  return {
    async get(url, signal) {
      const { statusCode, headers, body } = await request(url, {
        method: 'GET',
        dispatcher,
        signal,
        headers: { accept: 'image/*' },
      })
      const contentType = headers['content-type']
      return {
        status: statusCode,
        contentType: Array.isArray(contentType) ? contentType[0] : contentType,
        body,
        discard: () => body.dump({ limit: DISCARD_LIMIT_BYTES }),
      }
    },
  }
}
