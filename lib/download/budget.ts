/** Bytes held for one download, from before its request until its body is stored. */
export interface Admission {
  /**
   * Sets what the body needs, once its size is known. Less than admitted: the rest is given back
   * at once. More: waits, ahead of every new admission, until it fits.
   */
  settle(bytes: number, signal: AbortSignal): Promise<void>
  /** Gives every byte back, and gives up a wait to grow; safe to call more than once. */
  release(): void
}

/** A budget of bytes that downloads are admitted against before they ask the origin for a body. */
export interface ByteBudget {
  /**
   * Waits, first come first served, until `estimate` bytes fit with `headroomBytes` to spare, then
   * holds them; rejects with the signal's reason if it aborts first.
   */
  admit(estimate: number, signal: AbortSignal): Promise<Admission>
}

interface Waiter {
  readonly fits: () => boolean
  readonly grant: () => void
}

/**
 * A weighted semaphore over `limitBytes` (p-limit counts tasks, not bytes). Admissions keep
 * `headroomBytes` free, and a body that needs more than it was admitted with waits ahead of them:
 * so at least one such body can always grow, store and give its bytes back, and no set of
 * downloads can wait on each other for ever.
 */
export function byteBudget(limitBytes: number, headroomBytes: number): ByteBudget {
  return new WeightedBudget(limitBytes, headroomBytes)
}

class WeightedBudget implements ByteBudget {
  private readonly limitBytes: number
  private readonly headroomBytes: number
  private held = 0
  private readonly growing: Waiter[] = []
  private readonly admitting: Waiter[] = []

  constructor(limitBytes: number, headroomBytes: number) {
    this.limitBytes = limitBytes
    this.headroomBytes = headroomBytes
  }

  async admit(estimate: number, signal: AbortSignal): Promise<Admission> {
    // Alone, a download is always let through, however large.
    const fits = () => this.held === 0 || this.held + estimate <= this.limitBytes - this.headroomBytes
    await this.wait(this.admitting, fits, estimate, signal)
    return new HeldBytes(this, estimate)
  }

  /** Waits, ahead of every admission, until `held` bytes can grow by `more`; they fit when they are all there is. */
  grow(held: number, more: number, signal: AbortSignal): Promise<void> {
    return this.wait(this.growing, () => this.held === held || this.held + more <= this.limitBytes, more, signal)
  }

  giveBack(bytes: number): void {
    this.held -= bytes
    this.grantWaiting()
  }

  private grantWaiting(): void {
    for (const queue of [this.growing, this.admitting]) {
      while (queue.length > 0 && queue[0]!.fits()) queue.shift()!.grant()
      if (queue.length > 0) return
    }
  }

  /** Takes `bytes` once they fit and no one waits ahead; rejects with the signal's reason if it aborts first. */
  private wait(queue: Waiter[], fits: () => boolean, bytes: number, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted()
    if (this.growing.length === 0 && (queue === this.growing || this.admitting.length === 0) && fits()) {
      this.held += bytes
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        fits,
        grant: () => {
          signal.removeEventListener('abort', onAbort)
          this.held += bytes
          resolve()
        },
      }
      const onAbort = () => {
        queue.splice(queue.indexOf(waiter), 1)
        this.grantWaiting()
        reject(signal.reason as Error)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      queue.push(waiter)
    })
  }
}

/** The bytes one admission holds of its budget. */
class HeldBytes implements Admission {
  private readonly budget: WeightedBudget
  private bytes: number
  private released = false
  // Ends a wait to grow when the admission is released first, so that no bytes are taken after;
  // made only for such a wait, as most admissions never grow.
  private releasing: AbortController | undefined

  constructor(budget: WeightedBudget, bytes: number) {
    this.budget = budget
    this.bytes = bytes
  }

  async settle(needed: number, signal: AbortSignal): Promise<void> {
    if (this.released || needed === this.bytes) return
    if (needed < this.bytes) {
      this.budget.giveBack(this.bytes - needed)
      this.bytes = needed
      return
    }
    this.releasing ??= new AbortController()
    await this.budget.grow(this.bytes, needed - this.bytes, AbortSignal.any([signal, this.releasing.signal]))
    this.bytes = needed
  }

  release(): void {
    if (this.released) return
    this.released = true
    this.releasing?.abort(new Error('released'))
    this.budget.giveBack(this.bytes)
  }
}
