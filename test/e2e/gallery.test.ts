import { beforeAll, describe, expect, it } from 'vitest'
import { packagedTemplate, runServerless } from '../support/serverless.ts'
import { routesOf, webActions, type Template } from '../support/template.ts'

// Stage prod packaged once, with the gallery behind the operator's JWT authorizer. The gallery left
// off, as a plain package of prod has it, is checked on operations.test.ts's package.
const BUILD_FOLDER = '.esbuild/prod-gallery-test'

describe('the gallery on a deployed stage', () => {
  const issuer = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example'
  let template: Template

  beforeAll(async () => {
    template = await packagedTemplate<Template>(
      'prod',
      ['--param=galleryAccess=jwt', `--param=galleryJwtIssuer=${issuer}`, '--param=galleryJwtAudience=imgpull-web'],
      BUILD_FOLDER,
    )
  })

  it('is deployed behind the operator\'s JWT authorizer, with read-only access to the images and jobs', () => {
    expect(routesOf(template)).toMatchObject({ 'GET /': 'NONE', 'GET /gallery': 'JWT', 'GET /gallery/{proxy+}': 'JWT', 'GET /gallery/assets/{file}': 'NONE' })
    const authorizer = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::ApiGatewayV2::Authorizer')
    expect(authorizer?.Properties).toMatchObject({ AuthorizerType: 'JWT', IdentitySource: ['$request.header.Authorization'], JwtConfiguration: { Issuer: issuer, Audience: ['imgpull-web'] } })
    expect(webActions(template)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:ListBucket', 'dynamodb:GetItem', 'dynamodb:Query'])
    expect(JSON.stringify(template.Resources['WebRole'])).not.toMatch(/"\*"|s3:Put|dynamodb:(Put|Update)/)
  })

  it('refuses to ship the gallery open on a deployed stage', async () => {
    const { code, stdout, stderr } = await runServerless(['package', '--stage', 'dev', '--param=galleryAccess=open'], { buildFolder: BUILD_FOLDER })
    expect(code).not.toBe(0)
    expect(`${stdout}${stderr}`).toContain('/gallery would be public on a deployed stage')
  })
})
