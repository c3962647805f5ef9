import type { GalleryView, JobPageView } from '../gallery/gallery.ts'
import type { JobStatus } from '../jobs/job.ts'
import { html, render, type Html } from './html.ts'

/** The index page; with the gallery served, it links the gallery and the recent jobs after its heading. */
export function indexPage(galleryOn = false): string {
  if (!galleryOn) return render(html`<h1>Index</h1>`)
  return render(html`<h1>Index</h1><nav aria-label="Pages"><a href="/gallery">Gallery of stored images</a> · <a href="/gallery/jobs">Recent jobs</a></nav>`)
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

/** A page of the gallery, or its friendly empty state. Every value shown is escaped. */
export function galleryPage(view: GalleryView): string {
  const next =
    view.nextToken === undefined
      ? html``
      : html`<nav class="pages" aria-label="Pages"><a rel="next" href="/gallery?${new URLSearchParams({ prefix: view.prefix, next: view.nextToken }).toString()}">Next page</a></nav>`
  const body =
    view.images.length === 0
      ? html`<p class="empty">No images under <code>${view.prefix}</code> yet. Store some with <code>POST /download</code> or a job.</p>`
      : html`<p class="count">${view.images.length} ${view.images.length === 1 ? 'image' : 'images'} on this page${view.nextToken === undefined ? '' : ', more on the next'}</p>
<ul class="grid">${view.images.map(
          (image) => html`<li><figure><a href="${image.url}"><img src="${image.url}" alt="${image.code}"></a><figcaption><span class="code">${image.code}</span><span>${bytes(image.bytes)}</span><span>${image.contentType}</span><time datetime="${image.storedAt}">${image.storedAt.replace('T', ' ').slice(0, 19)} UTC</time></figcaption></figure></li>`,
        )}</ul>${next}`
  return render(layout(`Images under ${view.prefix}`, html`<h1>Images under <code>${view.prefix}</code></h1>${body}`))
}

/** The recent jobs, newest first, each linking its page. */
export function jobsPage(jobs: readonly JobStatus[]): string {
  const body =
    jobs.length === 0
      ? html`<p class="empty">No jobs yet. Start one with <code>POST /jobs</code>.</p>`
      : html`<table><thead><tr><th scope="col">job</th><th scope="col">state</th><th scope="col">codes</th><th scope="col">ok / not found / error</th><th scope="col">created</th></tr></thead><tbody>${jobs.map(
          (job) =>
            html`<tr><td><a href="/gallery/jobs/${job.jobId}">${job.jobId}</a></td><td>${job.state}</td><td>${job.total}</td><td>${job.counter.ok} / ${job.counter.not_found} / ${job.counter.error}</td><td>${job.createdAt}</td></tr>`,
        )}</tbody></table>`
  return render(layout('Recent jobs', html`<h1>Recent jobs</h1>${body}`))
}

/** A job's live page: its state as rendered now, then kept current by its script until it is done. */
export function jobPage(view: JobPageView): string {
  const { job } = view
  const counted = job.counter.ok + job.counter.not_found + job.counter.error
  const done = job.state === 'done'
  const statusUrl = `/gallery/jobs/${job.jobId}/status`
  const failuresUrl = `/gallery/jobs/${job.jobId}/failures`
  return render(
    layout(
      `Job ${job.jobId}`,
      html`<h1>Job <code>${job.jobId}</code></h1>
<main data-status-url="${statusUrl}" data-failures-url="${failuresUrl}" data-failures-shown="${job.counter.not_found + job.counter.error}">
<label for="progress"><span id="counted">${counted}</span> of ${job.total} codes counted (<span id="state">${job.state}</span>)</label>
<progress id="progress" max="${job.total}" value="${counted}">${counted} of ${job.total}</progress>
<dl><dt>ok</dt><dd id="ok">${job.counter.ok}</dd><dt>not found</dt><dd id="not_found">${job.counter.not_found}</dd><dt>error</dt><dd id="error">${job.counter.error}</dd>
<dt>chunks</dt><dd id="chunks">${job.chunksDone} of ${job.chunks}</dd><dt>elapsed</dt><dd id="elapsed">-</dd><dt>rate</dt><dd id="rate">-</dd></dl>
<p id="done"${done ? html`` : html` hidden`}><a id="report" href="${view.reportUrl ?? '#'}">Report of failed codes (CSV)</a> · <a href="/gallery?${new URLSearchParams({ prefix: job.prefix }).toString()}">Gallery of <code>${job.prefix}</code></a></p>
<h2>Failures so far</h2>
<table><thead><tr><th scope="col">code</th><th scope="col">status</th><th scope="col">reason</th><th scope="col">message</th></tr></thead><tbody id="failures">${view.failures.map(
        (failure) => html`<tr><td>${failure.code}</td><td>${failure.status}</td><td>${failure.reason}</td><td>${failure.message}</td></tr>`,
      )}</tbody></table>
<p id="more-failures">${view.moreFailures > 0 ? `${view.moreFailures} more in the report` : ''}</p>
</main>
<script src="/gallery/assets/job.js" defer></script>`,
    ),
  )
}

function layout(title: string, content: Html): Html {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><link rel="stylesheet" href="/gallery/assets/gallery.css"></head><body><nav aria-label="Site"><a href="/">imgpull</a><a href="/gallery">Gallery</a><a href="/gallery/jobs">Jobs</a></nav>${content}</body></html>`
}

function bytes(count: number): string {
  return count < 1024 ? `${count} B` : count < 1024 * 1024 ? `${(count / 1024).toFixed(1)} KiB` : `${(count / 1024 / 1024).toFixed(1)} MiB`
}
