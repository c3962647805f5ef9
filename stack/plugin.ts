// A Serverless Framework plugin (listed in serverless.yml): lets a function declare `access`, and
// gives every function the role stack/ derives from it.
import { roleOf } from './access.ts'

interface ServerlessInstance {
  readonly service: { readonly functions: Record<string, { role?: unknown }> }
  readonly configSchemaHandler: { defineFunctionProperties(provider: string, schema: unknown): void }
}

// Stores and IAM actions are checked where the role is derived, with the function named.
const ACCESS_SCHEMA = {
  properties: {
    access: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } } },
  },
}

export default class FunctionRoles {
  readonly hooks: Record<string, () => void>

  constructor(serverless: ServerlessInstance) {
    serverless.configSchemaHandler.defineFunctionProperties('aws', ACCESS_SCHEMA)
    this.hooks = {
      initialize: () => {
        for (const [name, fn] of Object.entries(serverless.service.functions)) fn.role ??= roleOf(name)
      },
    }
  }
}
