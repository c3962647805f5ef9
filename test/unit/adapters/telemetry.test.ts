import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runTelemetry, createLogger, createMetrics } from '../../../lib/adapters/telemetry.ts'
import type { DownloadResult } from '../../../lib/download/report.ts'
import { loggedLines } from '../../support/loggedLines.ts'

function result(total: number): DownloadResult {
  return {
    counter: { ok: total - 2, not_found: 1, error: 1 },
    unchanged: 3,
    bytes: 12_345,
    total,
    duplicates: 2,
    bucket: 'images',
    prefix: 'flags/',
    elapsedMs: 321,
    failures: [],
    failuresTotal: 2,
  }
}

describe('Function: runTelemetry', () => {
  const levels = { ...process.env }
  beforeEach(() => {
    process.env['POWERTOOLS_LOG_LEVEL'] = 'INFO'
  })
  afterEach(() => {
    process.env = { ...levels }
  })

  it('logs one line per failure and a summary, no line per success at INFO, and metrics in EMF', async () => {
    const logger = createLogger()
    const metrics = createMetrics({ metricsNamespace: 'imgpull' })
    const lines = await loggedLines(() => {
      const telemetry = runTelemetry(logger, metrics, 'schedule')
      telemetry.codeFinished({ code: 'a', status: 'ok', unchanged: false, bytes: 100, ms: 12 })
      telemetry.codeFinished({ code: 'b', status: 'not_found', reason: 'not_found', attempts: 1, httpStatus: 404, message: 'not found', ms: 7 })
      telemetry.codeFinished({ code: 'c', status: 'error', reason: 'timeout', attempts: 3, message: 'origin: Headers Timeout Error', ms: 15_012 })
      telemetry.finished(result(3))
      metrics.publishStoredMetrics()
    })

    const logs = lines.filter((line) => 'level' in line)
    expect(logs.map((line) => [line['level'], line['message']])).toEqual([
      ['WARN', 'image failed'],
      ['WARN', 'image failed'],
      ['INFO', 'batch finished'],
    ])
    expect(logs[1]).toMatchObject({ service: 'imgpull', code: 'c', status: 'error', reason: 'timeout', attempts: 3, ms: 15_012 })
    expect(logs[2]).toMatchObject({
      trigger: 'schedule',
      counter: { ok: 1, not_found: 1, error: 1 },
      unchanged: 3,
      bytes: 12_345,
      duplicates: 2,
      elapsedMs: 321,
    })

    const emf = lines.find((line) => '_aws' in line) as Record<string, unknown> & {
      _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] }
    }
    const [directive] = emf._aws.CloudWatchMetrics
    expect(directive?.Namespace).toBe('imgpull')
    expect(directive?.Dimensions).toEqual([['service', 'trigger']])
    expect(Object.fromEntries((directive?.Metrics ?? []).map((metric) => [metric.Name, metric.Unit]))).toEqual({
      downloadLatency: 'Milliseconds',
      ok: 'Count',
      notFound: 'Count',
      error: 'Count',
      unchanged: 'Count',
      bytesStored: 'Bytes',
    })
    expect(emf).toMatchObject({ trigger: 'schedule', downloadLatency: [12, 7, 15_012], ok: 1, notFound: 1, error: 1, bytesStored: 12_345 })
  })

  it('logs each success at DEBUG', async () => {
    process.env['POWERTOOLS_LOG_LEVEL'] = 'DEBUG'
    const logger = createLogger()
    const metrics = createMetrics({ metricsNamespace: 'imgpull' })
    const lines = await loggedLines(() => {
      runTelemetry(logger, metrics, 'http').codeFinished({ code: 'a', status: 'ok', unchanged: true, bytes: 0, ms: 3 })
    })
    expect(lines).toEqual([expect.objectContaining({ level: 'DEBUG', message: 'image stored', code: 'a', unchanged: true, ms: 3 })])
  })

  it('logs progress at every tenth of a batch over 100 codes, and none for smaller ones', async () => {
    const logger = createLogger()
    const metrics = createMetrics({ metricsNamespace: 'imgpull' })
    const progressOf = (total: number) =>
      loggedLines(() => {
        const telemetry = runTelemetry(logger, metrics, 'direct')
        for (let done = 1; done <= total; done += 1) telemetry.progress(done, total)
      })

    const large = await progressOf(250)
    expect(large.map((line) => line['percent'])).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    expect(large[0]).toMatchObject({ level: 'INFO', message: 'batch progress', done: 25, total: 250 })
    expect(await progressOf(100)).toEqual([])
  })
})
