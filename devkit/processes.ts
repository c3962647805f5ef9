import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'

/** A port one of the local servers needs and what it is for, for the message when it is taken. */
export interface NamedPort {
  readonly port: number
  readonly what: string
}

/** The message for a port another process holds: one line, no stack trace. */
export function portInUseMessage({ port, what }: NamedPort, hint: string): string {
  return `port ${port} (${what}) is already in use on 127.0.0.1: stop whatever holds it, or ${hint}`
}

/** Whether an error is the operating system saying the address is taken. */
export function isAddressInUse(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE'
}

/** The first of the ports that something already listens on at 127.0.0.1, if any. */
export async function firstPortInUse(ports: readonly NamedPort[]): Promise<NamedPort | undefined> {
  for (const named of ports) {
    const server = createServer()
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false))
      server.listen(named.port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (!free) return named
  }
  return undefined
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const

/**
 * Runs `stop` once on the first SIGINT, SIGTERM or SIGHUP, then exits. Whatever `stop` leaves
 * hanging is cut short after `graceMs`, so a stop always ends the process.
 */
export function onStopSignal(stop: (signal: NodeJS.Signals) => Promise<number>, graceMs = 5000): void {
  let stopping = false
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (stopping) return
      stopping = true
      setTimeout(() => process.exit(1), graceMs).unref()
      void stop(signal).then((code) => process.exit(code), () => process.exit(1))
    })
  }
}

/** Sends a signal to a child spawned `detached` and to everything it started (its process group). */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // The group is already gone.
  }
}

/** Resolves once a child has exited, at once if it already has. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

// The tail of a process's output kept for the error when it exits first. Only the tail is kept,
// and nothing once the text is seen: a long run's output (every invocation of serverless-offline
// logs) searched whole at each write cost the watching process seconds of CPU.
const OUTPUT_TAIL_CHARS = 16_384

/** Resolves once `child` (`name`, for the error) prints `text` on stdout or stderr; rejects with its last output if it exits first. */
export function untilPrinted(child: ChildProcess, name: string, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = ''
    let seen = false
    const onData = (chunk: Buffer) => {
      if (seen) return
      output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS)
      if (!output.includes(text)) return
      seen = true
      output = ''
      resolve()
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before printing "${text}":\n${output}`)))
  })
}
