import type { Readable } from 'node:stream'
import type { LimitFunction } from 'p-limit'
import { storeStepFailure, streamedUploadFailure } from './blame.ts'
import type { DownloadError } from './errors.ts'
import type { GuardedImage } from './imageGuard.ts'
import type { ObjectSink, ObjectToStore } from './ports.ts'
import type { ReadBody } from './readOrStream.ts'
import { storedDespiteDeadline } from './storedCopy.ts'

/**
 * Uploads a body read whole, in one of the run's upload slots (apart from the origin's), and gives
 * its bytes back to the memory budget once it is stored or failed. Resolves with the failure, if
 * any: an upload the deadline cut short once sent counts as stored if the store has it all the
 * same (see storedDespiteDeadline, given the run's `reserveMs`).
 */
export async function storeReadBody(
  uploadSlots: LimitFunction,
  sink: ObjectSink,
  key: string,
  read: ReadBody,
  signal: AbortSignal,
  reserveMs: number,
): Promise<DownloadError | undefined> {
  const upload = { sent: false }
  try {
    await uploadSlots(putReadBody, sink, key, read, signal, upload)
    return undefined
  } catch (error) {
    if (upload.sent && signal.aborted && (await storedDespiteDeadline(sink, key, read.validators, reserveMs))) return undefined
    return storeStepFailure(error, signal)
  } finally {
    read.admission.release()
  }
}

function putReadBody(sink: ObjectSink, key: string, read: ReadBody, signal: AbortSignal, upload: { sent: boolean }): Promise<void> {
  signal.throwIfAborted()
  upload.sent = true
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
