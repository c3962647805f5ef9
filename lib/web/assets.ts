// The gallery's only style sheet and script, served from the web function itself so that the
// pages' Content-Security-Policy can allow 'self' and nothing else.

/** Readable on a phone: one column of thumbnails on a narrow screen, as many as fit on a wide one. */
export const GALLERY_CSS = `
:root{font-family:system-ui,sans-serif;color:#1b1b1b;background:#fafafa;line-height:1.4}
body{margin:0 auto;max-width:70rem;padding:1rem}
nav a{margin-right:1rem}
a{color:#0645ad}
a:focus,button:focus{outline:3px solid #f90;outline-offset:2px}
.grid{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(10rem,1fr));gap:1rem}
.grid figure{margin:0;background:#fff;border:1px solid #ddd;border-radius:.4rem;padding:.5rem}
.grid img{display:block;width:100%;height:8rem;object-fit:contain;background:#eee}
figcaption{font-size:.85rem;display:flex;flex-direction:column;overflow-wrap:anywhere}
.code{font-weight:600}
.empty{padding:2rem;background:#fff;border:1px dashed #bbb;border-radius:.4rem}
progress{width:100%;height:1.5rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.3rem;border-bottom:1px solid #ddd;overflow-wrap:anywhere}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dd{margin:0}
`

/**
 * The job page's script: asks the page's status URL for the job every second and writes what it
 * says into the page (as text, never as markup); asks for the failures only when their count has
 * changed; stops once the job is done (then shows its links) or the answer is refused.
 */
export const JOB_SCRIPT = `
'use strict'
const main = document.querySelector('main[data-status-url]')
let failuresShown = Number(main.dataset.failuresShown)
const put = (id, text) => { const node = document.getElementById(id); if (node) node.textContent = String(text) }
function seconds(from, to) { return Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000) }
function showJob(job) {
  const counted = job.counter.ok + job.counter.not_found + job.counter.error
  const bar = document.getElementById('progress')
  bar.max = job.total
  bar.value = counted
  put('counted', counted)
  put('state', job.state)
  put('ok', job.counter.ok)
  put('not_found', job.counter.not_found)
  put('error', job.counter.error)
  put('chunks', job.chunksDone + ' of ' + job.chunks)
  const elapsed = seconds(job.createdAt, job.finishedAt || new Date().toISOString())
  put('elapsed', elapsed.toFixed(1) + ' s')
  put('rate', elapsed > 0 ? (counted / elapsed).toFixed(1) + ' images/s' : '-')
}
function showFailures(view) {
  document.getElementById('failures').replaceChildren(...view.failures.map((failure) => {
    const row = document.createElement('tr')
    for (const value of [failure.code, failure.status, failure.reason, failure.message]) {
      const cell = document.createElement('td')
      cell.textContent = String(value)
      row.append(cell)
    }
    return row
  }))
  put('more-failures', view.moreFailures > 0 ? view.moreFailures + ' more in the report' : '')
  if (view.reportUrl) document.getElementById('report').href = view.reportUrl
}
async function ask(url) {
  const answer = await fetch(url, { headers: { accept: 'application/json' } })
  if (answer.status >= 400 && answer.status < 500) throw new Error('refused')
  return answer.ok ? answer.json() : undefined
}
async function poll() {
  try {
    const job = await ask(main.dataset.statusUrl)
    if (job) {
      showJob(job)
      const failed = job.counter.not_found + job.counter.error
      if (failed !== failuresShown || job.state === 'done') {
        const view = await ask(main.dataset.failuresUrl)
        if (view) {
          showFailures(view)
          failuresShown = failed
        }
      }
      if (job.state === 'done') {
        document.getElementById('done').hidden = false
        return
      }
    }
  } catch (error) {
    if (error instanceof Error && error.message === 'refused') return
  }
  setTimeout(poll, 1000)
}
poll()
`
