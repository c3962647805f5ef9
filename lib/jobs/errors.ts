import { ImgpullError } from '../errors.ts'

/** A job the store does not have (never created, or expired): nothing can be counted into it. */
export class JobNotFound extends ImgpullError {}

/** An object larger than its reader accepts. */
export class ObjectTooLarge extends ImgpullError {}

/** An object the store refuses to hand over (S3's 403): on AWS, also a missing key to a role that may not list it. */
export class ObjectAccessDenied extends ImgpullError {}

/**
 * A part of a chunk the deadline cut before it finished any code: not counted, so that its
 * message is delivered again or, after the queue's last try, dead-lettered.
 */
export class ChunkIncomplete extends ImgpullError {}

/** A job's plan that is not in the bucket though the job is: nothing of it can be sent. */
export class PlanMissing extends ImgpullError {}

/** An object that ends before the range its reader asks for: the bytes are not there. */
export class ObjectTooShort extends ImgpullError {}

/**
 * A dead-lettered part a worker may still be running (a copy of its message): not counted yet,
 * so that the codes that worker stores count `ok`; the dead-letter queue delivers it again.
 */
export class PartLeased extends ImgpullError {}
