import { html, render } from './html.ts'

/** The index page. */
export function indexPage(): string {
  return render(html`<h1>Index</h1>`)
}

/** The greeting page; the name is escaped so it can never become markup. */
export function helloPage(name: string): string {
  return render(html`<h1>hello, ${name}!</h1>`)
}

/**
 * Decodes a path segment once. API Gateway may already have decoded it, and a name may hold a
 * literal "%", so a segment that is not valid percent-encoding is taken as it is.
 */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}
