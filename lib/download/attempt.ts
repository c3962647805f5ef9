import { needBeforeReading, settleBeforeReading, type RequestAdmissions } from './admission.ts'
import { endUnreadAnswer, refuseDeclaredOversize, type UNCHANGED } from './answerGuard.ts'
import { attemptClock, type AttemptClock } from './attemptClock.ts'
import { attemptFailure } from './blame.ts'
import type { Admission } from './budget.ts'
import type { DownloadError } from './errors.ts'
import { guardImageBody, type GuardedImage } from './imageGuard.ts'
import { imageRequest } from './imageRequest.ts'
import { originValidators, type ImageSource, type ObjectSink, type OriginResponse, type OriginValidators } from './ports.ts'
import { readHead, streamedBody, wholeBody, type ReadBody } from './readOrStream.ts'
import type { EngineSettings } from './settings.ts'
import { storedDespiteDeadline } from './storedCopy.ts'
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
  // Admitted before the request is sent, so that a full budget holds new requests back.
  const admission = await run.admissions.admit(run.deadline.signal)
  return new Attempt(run, key, admission).fetch(url, validators)
}

/** The steps of one admitted attempt, with its clock running. */
class Attempt {
  private readonly run: AttemptRun
  private readonly key: string
  private readonly admission: Admission
  private readonly clock: AttemptClock

  constructor(run: AttemptRun, key: string, admission: Admission) {
    this.run = run
    this.key = key
    this.admission = admission
    this.clock = attemptClock(run.settings.attemptTimeoutMs)
  }

  async fetch(url: string, validators: OriginValidators | undefined): Promise<Fetched> {
    const { settings, ports, deadline } = this.run
    let fetched: Fetched | undefined
    try {
      let response: OriginResponse
      try {
        response = await ports.source.get(imageRequest(url, validators, deadline.signal, this.clock.signal))
      } catch (error) {
        throw this.originFault(error)
      }
      if (response.status !== 200) return (fetched = await endUnreadAnswer(response, validators !== undefined))
      refuseDeclaredOversize(response, settings.maxImageBytes)
      fetched = await this.readOrStream(response, await this.checkedImage(response))
      return fetched
    } finally {
      this.clock.stop()
      // A body read whole hands its admission on to its upload; on every other way out it is given back here.
      if (fetched?.kind !== 'read') this.admission.release()
    }
  }

  /** The body of a 200, once the memory it needs is settled, checked to be an image within the limits. */
  private async checkedImage(response: OriginResponse): Promise<GuardedImage> {
    const { settings } = this.run
    const { contentLength } = response.headers
    await this.settle(needBeforeReading(contentLength, settings.maxBufferedBytes, settings.maxStreamedBytes), response)
    try {
      return await guardImageBody(response.body, {
        maxBytes: settings.maxImageBytes,
        expectedBytes: contentLength,
        minBytesPerSecond: settings.minBodyBytesPerSecond,
      })
    } catch (error) {
      throw this.originFault(error)
    }
  }

  /** Reads up to one part: a body that ends within it is handed on whole, the slot freed; a larger one streams into the sink. */
  private async readOrStream(response: OriginResponse, image: GuardedImage): Promise<Fetched> {
    const partBytes = this.run.settings.maxBufferedBytes
    const served = originValidators(response.headers.etag, response.headers.lastModified)
    const chunks = image.body[Symbol.asyncIterator]() as AsyncIterator<Buffer>
    const head: Buffer[] = []
    let headBytes: number
    try {
      headBytes = await readHead(chunks, head, partBytes)
    } catch (error) {
      throw this.originFault(image.failure() ?? error)
    }
    if (headBytes > partBytes) return this.streamRest(response, image, head, chunks, served)
    this.clock.stop()
    const read = await wholeBody(head, headBytes, image.contentType, served, this.admission, this.run.deadline.signal)
    this.run.admissions.noteNeed(read.body.length)
    return read
  }

  /**
   * Larger than a part: the rest streams into the sink, in this slot. From here on S3 sets the pace
   * as much as the origin, so the attempt's clock stops; the body's own timeout and rate still
   * hold the origin to account, and the deadline the whole.
   */
  private async streamRest(
    response: OriginResponse,
    image: GuardedImage,
    head: Buffer[],
    chunks: AsyncIterator<Buffer>,
    served: OriginValidators,
  ): Promise<Fetched> {
    const { settings, ports, deadline } = this.run
    await this.settle(settings.maxStreamedBytes, response)
    this.clock.stop()
    this.run.admissions.noteNeed(settings.maxStreamedBytes)
    const object = { key: this.key, body: streamedBody(head, chunks), contentType: image.contentType, validators: served }
    try {
      await storeStreamed(ports.sink, object, image, deadline.signal)
    } catch (error) {
      // A multipart upload completes only once its body has ended: only then may the deadline have cut off no more than its answer.
      const ended = object.body.readableEnded
      if (!deadline.signal.aborted || !ended || !(await storedDespiteDeadline(ports.sink, this.key, served, settings.deadlineReserveMs))) throw error
    }
    return { kind: 'streamed', bytes: image.bytesRead() }
  }

  private settle(bytes: number, response: OriginResponse): Promise<void> {
    return settleBeforeReading(this.admission, bytes, this.clock, this.run.deadline.signal, response.body)
  }

  /** An origin error of this attempt, timed out by its clock or as it is. */
  private originFault(error: unknown): DownloadError {
    return attemptFailure(error, this.clock.signal, this.run.deadline.signal, this.run.settings.attemptTimeoutMs)
  }
}
