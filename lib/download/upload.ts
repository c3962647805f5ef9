import type { Readable } from 'node:stream'
import type { LimitFunction } from 'p-limit'
import { storeStepFailure, streamedUploadFailure } from './blame.ts'
import type { DownloadError } from './errors.ts'
import type { GuardedImage } from './imageGuard.ts'
import type { ObjectSink, ObjectToStore } from './ports.ts'
import type { ReadBody } from './readOrStream.ts'

/**
 * Uploads a body read whole, in one of the run's upload slots (apart from the origin's), and gives
 * its bytes back to the memory budget once it is stored or failed. Resolves with the failure, if any.
 */
export async function storeReadBody(
  uploadSlots: LimitFunction,
  sink: ObjectSink,
  key: string,
  read: ReadBody,
  signal: AbortSignal,
): Promise<DownloadError | undefined> {
  try {
    await uploadSlots(putReadBody, sink, key, read, signal)
    return undefined
  } catch (error) {
    return storeStepFailure(error, signal)
  } finally {
    read.admission.release()
  }
}

function putReadBody(sink: ObjectSink, key: string, read: ReadBody, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  return sink.put({ key, body: read.body, contentType: read.contentType, validators: read.validators }, signal)
}

/**
 * Streams a body larger than a part into the sink, within the code's origin slot. On failure both
 * streams are destroyed, and the side that failed is blamed: the origin's body, or the store.
 */
export async function storeStreamed(
  sink: ObjectSink,
  object: ObjectToStore & { readonly body: Readable },
  image: GuardedImage,
  signal: AbortSignal,
): Promise<void> {
  try {
    await sink.put(object, signal)
  } catch (error) {
    object.body.destroy()
    image.body.destroy()
    throw streamedUploadFailure(error, image.failure())
  }
}
