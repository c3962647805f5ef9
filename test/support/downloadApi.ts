import { expect } from 'vitest'

/** POSTs a JSON body to /download, as `curl --json` does. */
export function postDownload(httpUrl: string, body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(`${httpUrl}/download`, { method: 'POST', headers: { 'content-type': contentType }, body })
}

/** Expects a refusal: the status, a JSON body holding a message alone, and that message. */
export async function expectRefusal(response: Response, statusCode: number, message: RegExp | string): Promise<void> {
  expect(response.status).toBe(statusCode)
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  const answer = (await response.json()) as { message: string }
  expect(Object.keys(answer)).toEqual(['message'])
  expect(answer.message).toMatch(message)
}
