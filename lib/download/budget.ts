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
  let held = 0
  const growing: Waiter[] = []
  const admitting: Waiter[] = []

  const take = (bytes: number) => {
    held += bytes
  }
  const grantWaiting = () => {
    for (const queue of [growing, admitting]) {
      while (queue.length > 0 && queue[0]!.fits()) queue.shift()!.grant()
      if (queue.length > 0) return
    }
  }
  const wait = (queue: Waiter[], fits: () => boolean, onGrant: () => void, signal: AbortSignal): Promise<void> => {
    signal.throwIfAborted()
    if (growing.length === 0 && (queue === growing || admitting.length === 0) && fits()) {
      onGrant()
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        fits,
        grant: () => {
          signal.removeEventListener('abort', onAbort)
          onGrant()
          resolve()
        },
      }
      const onAbort = () => {
        queue.splice(queue.indexOf(waiter), 1)
        grantWaiting()
        reject(signal.reason as Error)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      queue.push(waiter)
    })
  }
  const giveBack = (bytes: number) => {
    held -= bytes
    grantWaiting()
  }

  return {
    async admit(estimate, signal) {
      // Alone, a download is always let through, however large.
      const fits = () => held === 0 || held + estimate <= limitBytes - headroomBytes
      await wait(admitting, fits, () => take(estimate), signal)
      let bytes = estimate
      let released = false
      // Ends a wait to grow when the admission is released first, so that no bytes are taken after;
      // made only for such a wait, as most admissions never grow.
      let releasing: AbortController | undefined
      return {
        async settle(needed, settleSignal) {
          if (released || needed === bytes) return
          if (needed < bytes) {
            giveBack(bytes - needed)
            bytes = needed
            return
          }
          const more = needed - bytes
          releasing ??= new AbortController()
          const abandoned = AbortSignal.any([settleSignal, releasing.signal])
          await wait(growing, () => held === bytes || held + more <= limitBytes, () => take(more), abandoned)
          bytes = needed
        },
        release() {
          if (released) return
          released = true
          releasing?.abort(new Error('released'))
          giveBack(bytes)
        },
      }
    },
  }
}
