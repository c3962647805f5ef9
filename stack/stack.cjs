// serverless.yml's `resources: ${file(./stack/stack.cjs)}`: the Serverless Framework loads
// variable files with require(), and the stack is derived by TypeScript modules beside this one.
module.exports = async (context) => (await import('./resources.ts')).stackResources(context)
