import { ImgpullError } from '../errors.ts'

/** A chunk of a job the store does not have (never created, or expired): it cannot be counted anywhere. */
export class JobNotFound extends ImgpullError {}

/** An object larger than its reader accepts. */
export class ObjectTooLarge extends ImgpullError {}

/** An object the store refuses to hand over (S3's 403): on AWS, also a missing key to a role that may not list it. */
export class ObjectAccessDenied extends ImgpullError {}

/**
 * A chunk the deadline cut short: not counted, so that its message is delivered again (its codes
 * already stored are then found unchanged) or, after the queue's last try, dead-lettered.
 */
export class ChunkIncomplete extends ImgpullError {}
