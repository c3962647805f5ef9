import { needBeforeReading, settleBeforeReading, type RequestAdmissions } from './admission.ts'
import { endUnreadAnswer, refuseDeclaredOversize, type UNCHANGED } from './answerGuard.ts'
import { attemptClock, type AttemptClock } from './attemptClock.ts'
import { attemptFailure } from './blame.ts'
import type { Admission } from './budget.ts'
import { guardImageBody, type GuardedImage } from './imageGuard.ts'
import { imageRequest } from './imageRequest.ts'
import { originValidators, type ImageSource, type ObjectSink, type OriginResponse, type OriginValidators } from './ports.ts'
import { readHead, streamedBody, wholeBody, type ReadBody } from './readOrStream.ts'
import type { EngineSettings } from './settings.ts'
import { storeStreamed } from './upload.ts'

/** What an attempt works with, of its run. */
export interface AttemptRun {
  readonly settings: EngineSettings
  readonly ports: { readonly source: ImageSource; readonly sink: ObjectSink }
  /** The run's deadline: its signal aborts the attempt. */
  readonly deadline: { readonly signal: AbortSignal }
  readonly admissions: RequestAdmissions
}

/** How an attempt ended well: unchanged at the origin, streamed to the sink, or read whole. */
export type Fetched = typeof UNCHANGED | { readonly kind: 'streamed'; readonly bytes: number } | ReadBody

/**
 * One attempt, in the code's origin slot: admitted against the memory budget, a (conditional)
 * GET, checks on the answer, and the body read whole or, past one part, streamed into the sink.
 * Its clock (attemptTimeoutMs) runs from the request to the last byte of a body read whole, or to
 * the start of a streamed one, and stops while the attempt waits for memory.
 */
export async function attemptOnce(url: string, key: string, validators: OriginValidators | undefined, run: AttemptRun): Promise<Fetched> {
  const { settings, ports, deadline: { signal } } = run
  const admission = await run.admissions.admit(signal)
  const clock = attemptClock(settings.attemptTimeoutMs)
  let fetched: Fetched | undefined
  try {
    let response: OriginResponse
    try {
      response = await ports.source.get(imageRequest(url, validators, signal, clock.signal))
    } catch (error) {
      throw attemptFailure(error, clock.signal, signal, settings.attemptTimeoutMs)
    }
    if (response.status !== 200) return (fetched = await endUnreadAnswer(response, validators !== undefined))
    refuseDeclaredOversize(response, settings.maxImageBytes)
    const image = await checkedImage(response, admission, clock, run)
    fetched = await readOrStream(response, image, key, admission, clock, run)
    return fetched
  } finally {
    clock.stop()
    // A body read whole hands its admission on to its upload; on every other way out it is given back here.
    if (fetched?.kind !== 'read') admission.release()
  }
}

/** The body of a 200, once the memory it needs is settled, checked to be an image within the limits. */
async function checkedImage(response: OriginResponse, admission: Admission, clock: AttemptClock, run: AttemptRun): Promise<GuardedImage> {
  const { settings, deadline: { signal } } = run
  const { contentLength } = response.headers
  const needBytes = needBeforeReading(contentLength, settings.maxBufferedBytes, settings.maxStreamedBytes)
  await settleBeforeReading(admission, needBytes, clock, signal, response.body)
  try {
    return await guardImageBody(response.body, {
      maxBytes: settings.maxImageBytes,
      expectedBytes: contentLength,
      minBytesPerSecond: settings.minBodyBytesPerSecond,
    })
  } catch (error) {
    throw attemptFailure(error, clock.signal, signal, settings.attemptTimeoutMs)
  }
}

/** Reads up to one part; a body that ends within it is handed on whole, the slot freed, and a larger one streams into the sink. */
async function readOrStream(
  response: OriginResponse,
  image: GuardedImage,
  key: string,
  admission: Admission,
  clock: AttemptClock,
  run: AttemptRun,
): Promise<Fetched> {
  const { settings, ports, deadline: { signal } } = run
  const partBytes = settings.maxBufferedBytes
  const served = originValidators(response.headers.etag, response.headers.lastModified)
  const chunks = image.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>
  const head: Buffer[] = []
  let headBytes: number
  try {
    headBytes = await readHead(chunks, head, partBytes)
  } catch (error) {
    throw attemptFailure(image.failure() ?? error, clock.signal, signal, settings.attemptTimeoutMs)
  }
  if (headBytes <= partBytes) {
    clock.stop()
    const read = await wholeBody(head, headBytes, image.contentType, served, admission, signal)
    run.admissions.noteNeed(read.body.length)
    return read
  }
  // From here on S3 sets the pace as much as the origin, so the attempt's clock stops; the body's
  // own timeout and rate still hold the origin to account, and the deadline the whole.
  await settleBeforeReading(admission, settings.maxStreamedBytes, clock, signal, response.body)
  clock.stop()
  run.admissions.noteNeed(settings.maxStreamedBytes)
  const object = { key, body: streamedBody(head, chunks), contentType: image.contentType, validators: served }
  await storeStreamed(ports.sink, object, image, signal)
  return { kind: 'streamed', bytes: image.bytesRead() }
}
