import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { packageStage } from './serverless.ts'

/** The CloudFormation that `serverless package` writes, as far as the tests read it. */
export interface Template {
  readonly Resources: Record<string, { Type: string; Properties: Record<string, unknown>; Condition?: string; DependsOn?: unknown }>
  readonly Conditions?: Record<string, unknown>
  readonly Outputs?: Record<string, unknown>
}

/** The deployed stages and the params an operator may set on top of the defaults. */
export const STACK_VARIANTS: Readonly<Record<string, { readonly stage: string; readonly params: Readonly<Record<string, string>> }>> = {
  dev: { stage: 'dev', params: {} },
  prod: { stage: 'prod', params: {} },
  'prod with every optional param': {
    stage: 'prod',
    params: {
      alarmEmail: 'ops@example.com',
      galleryAccess: 'jwt',
      galleryJwtIssuer: 'https://issuer.example.com',
      galleryJwtAudience: 'imgpull',
      scheduleEnabled: 'true',
      scheduleRequest: '{"manifest":"manifests/daily.txt"}',
    },
  },
}

/**
 * Packages a stage offline into a throwaway folder, building in a folder of its own, and reads its
 * template (and the template's path, while the folder lasts).
 */
export async function withPackagedStack<T>(variant: string, read: (template: Template, path: string) => Promise<T> | T): Promise<T> {
  const { stage, params } = STACK_VARIANTS[variant]!
  const paramArgs = Object.entries(params).map(([key, value]) => `--param=${key}=${value}`)
  const { dir, template } = await packageStage<Template>(stage, paramArgs, `.esbuild/stack-test-${variant.replaceAll(' ', '-')}`)
  try {
    return await read(template, join(dir, 'cloudformation-template-update-stack.json'))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown; Principal?: unknown }

const sortedJson = (value: unknown): unknown =>
  Array.isArray(value)
    ? value.map(sortedJson)
    : typeof value === 'object' && value !== null
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, inner]) => [key, sortedJson(inner)]))
      : value

/** A statement per action and resource, so two policies that grant the same compare equal however they group them. */
function grants(statements: readonly Statement[]): string[] {
  return statements
    .flatMap((statement) =>
      [statement.Action].flat().flatMap((action) =>
        [statement.Resource].flat().map((resource) => JSON.stringify(sortedJson({ effect: statement.Effect, action, resource, condition: statement.Condition ?? null }))),
      ),
    )
    .sort()
}

/**
 * What a template deploys, in a form two templates can be compared by: every resource's type and
 * properties (the code's upload path left out: it changes with each package; the dashboard's body
 * as the JSON it is, whatever its spacing), and each role's
 * grants as a sorted set of single action-resource pairs.
 */
export function stackShape(template: Template): Record<string, unknown> {
  const resources = Object.fromEntries(
    Object.entries(template.Resources)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([id, resource]) => {
        const properties: Record<string, unknown> = { ...resource.Properties }
        delete properties['Code']
        if (resource.Type === 'AWS::CloudWatch::Dashboard') properties['DashboardBody'] = JSON.parse((properties['DashboardBody'] as { 'Fn::Sub': string })['Fn::Sub']) as unknown
        if (resource.Type !== 'AWS::IAM::Role') return [id, sortedJson({ ...resource, Properties: properties })]
        const policies = (properties['Policies'] ?? []) as { PolicyDocument: { Statement: Statement[] } }[]
        delete properties['Policies']
        return [id, sortedJson({ ...resource, Properties: { ...properties, grants: grants(policies.flatMap((policy) => policy.PolicyDocument.Statement)) } })]
      }),
  )
  return { resources, conditions: sortedJson(template.Conditions ?? {}), outputs: sortedJson(template.Outputs ?? {}) }
}
