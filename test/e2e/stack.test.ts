import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { STACK_VARIANTS, stackShape, withPackagedStack } from '../support/packagedStack.ts'

// The stack derived from serverless.yml's function list, packaged as each deployed stage ships it:
// the same resources and grants as the hand-written template it replaced, and clean under AWS's
// CloudFormation linter.
const run = promisify(execFile)
const fixture = JSON.parse(await readFile(new URL('../fixtures/stack-shape.json', import.meta.url), 'utf8')) as Record<string, { resources: Record<string, Record<string, unknown>>; conditions: unknown; outputs: unknown }>

interface LintFinding {
  readonly Rule: { readonly Id: string }
  readonly Message: string
}

const cfnLintInstalled = await run('cfn-lint', ['--version']).then(
  () => true,
  () => false,
)

const packaged: Record<string, { shape: ReturnType<typeof stackShape>; findings: LintFinding[] }> = {}

beforeAll(async () => {
  for (const [name, { stage, params }] of Object.entries(STACK_VARIANTS)) {
    packaged[name] = await withPackagedStack(stage, params, async (template, path) => ({ shape: stackShape(template), findings: cfnLintInstalled ? await lint(path) : [] }))
  }
}, 300_000)

async function lint(path: string): Promise<LintFinding[]> {
  // cfn-lint exits non-zero whenever it finds anything; its findings are on stdout either way.
  const { stdout } = await run('cfn-lint', ['--format', 'json', path]).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }))
  return JSON.parse(stdout) as LintFinding[]
}

/**
 * The recorded stack as it stands now that the alarm email is decided when the stack is packaged
 * (cfn-lint's W8003: a condition on two literals): a subscription only where an email is set, and
 * no condition.
 */
function withAlarmEmailDecidedAtPackaging(recorded: (typeof fixture)[string]) {
  const resources = { ...recorded.resources }
  const unconditional: Record<string, unknown> = { ...resources['AlarmEmailSubscription'] }
  delete unconditional['Condition']
  const email = (unconditional['Properties'] as { Endpoint?: string } | undefined)?.Endpoint
  if (email === '') delete resources['AlarmEmailSubscription']
  else resources['AlarmEmailSubscription'] = unconditional
  return { ...recorded, conditions: {}, resources }
}

/** A resource apart from its function's environment variables, and those variables. */
function withoutVariables(resource: Record<string, unknown>): [Record<string, unknown>, Record<string, unknown>] {
  const properties = { ...(resource['Properties'] as Record<string, unknown>) }
  const variables = (properties['Environment'] as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}
  delete properties['Environment']
  return [{ ...resource, Properties: properties }, variables]
}

describe.each(Object.keys(STACK_VARIANTS))('the packaged stack: %s', (variant) => {
  it('deploys the same resources, properties and role grants as the template recorded before it was derived', () => {
    const expected = withAlarmEmailDecidedAtPackaging(fixture[variant]!)
    const actual = packaged[variant]!.shape as typeof expected
    expect(Object.keys(actual.resources).sort()).toEqual(Object.keys(expected.resources).sort())
    for (const id of Object.keys(expected.resources)) {
      const [recorded, recordedVariables] = withoutVariables(expected.resources[id]!)
      const [packagedNow, variables] = withoutVariables(actual.resources[id]!)
      expect({ id, resource: packagedNow }).toEqual({ id, resource: recorded })
      // Each function now gets only the variables its own config loader reads, all as they were.
      expect({ id, variables: recordedVariables }).toMatchObject({ id, variables })
    }
    expect(actual.conditions).toEqual(expected.conditions)
    expect(actual.outputs).toEqual(expected.outputs)
  })

  it.skipIf(!cfnLintInstalled)(
    cfnLintInstalled ? 'passes cfn-lint with nothing but the framework\'s W3005' : 'passes cfn-lint (skipped: cfn-lint is not on PATH; install it with `pip install cfn-lint`)',
    () => {
      const findings = packaged[variant]!.findings
      expect(findings.filter((finding) => finding.Rule.Id !== 'W3005').map((finding) => `${finding.Rule.Id} ${finding.Message}`)).toEqual([])
    },
  )
})
