import { ImgpullError } from '../errors.ts'

/** A chunk of a job the store does not have (never created, or expired): it cannot be counted anywhere. */
export class JobNotFound extends ImgpullError {}

/** An object larger than its reader accepts. */
export class ObjectTooLarge extends ImgpullError {}

/**
 * A chunk the deadline cut short: not counted, so that its message is delivered again (its codes
 * already stored are then found unchanged) or, after the queue's last try, dead-lettered.
 */
export class ChunkIncomplete extends ImgpullError {}

/** An object that ends before the range its reader asks for: the bytes are not there. */
export class ObjectTooShort extends ImgpullError {}
