import escapeHtml from 'escape-html'

const MARKUP = Symbol('markup')

/** Markup that is safe to put in a page as it is: written by a template, every value in it escaped. */
export interface Html {
  readonly [MARKUP]: string
}

function markup(text: string): Html {
  return { [MARKUP]: text }
}

function isHtml(value: unknown): value is Html {
  return typeof value === 'object' && value !== null && MARKUP in value
}

/**
 * A template tag for pages: every interpolated value is escaped (`& < > " '`) unless it is itself
 * Html from this tag, so no value can ever become markup. Arrays are joined, each item by the same rule.
 *
 * @example html`<h1>hello, ${name}!</h1>`
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  const piece = (value: unknown): string =>
    isHtml(value) ? value[MARKUP] : Array.isArray(value) ? value.map(piece).join('') : escapeHtml(String(value))
  return markup(strings.reduce((page, text, i) => page + piece(values[i - 1]) + text))
}

/** The markup as text, to send as a response body. */
export function render(page: Html): string {
  return page[MARKUP]
}
