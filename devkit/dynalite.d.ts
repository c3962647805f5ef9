// dynalite ships no types; this is the part of it the local stack uses.
declare module 'dynalite' {
  import type { Server } from 'node:http'

  interface DynaliteOptions {
    /** A folder to keep the tables in; in memory when left out. */
    path?: string
    createTableMs?: number
    deleteTableMs?: number
    updateTableMs?: number
  }

  export default function dynalite(options?: DynaliteOptions): Server
}
