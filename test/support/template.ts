/** A CloudFormation template as `serverless package` writes it, as far as the tests read it. */
export type Template = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }

/** Each HTTP API route of the template, by route key, with its authorization type. */
export const routesOf = (template: Template) =>
  Object.fromEntries(
    Object.values(template.Resources)
      .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
      .map((resource) => [String(resource.Properties['RouteKey']), resource.Properties['AuthorizationType'] ?? 'NONE']),
  )

/** Every action the web function's role allows, in the template's order. */
export const webActions = (template: Template) =>
  (template.Resources['WebRole']?.Properties as { Policies: { PolicyDocument: { Statement: { Action: string[] }[] } }[] }).Policies.flatMap(
    (policy) => policy.PolicyDocument.Statement.flatMap((statement) => statement.Action),
  )
