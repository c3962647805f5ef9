// The few CloudFormation shapes the stack is written in.

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json }

export interface Resource {
  readonly Type: string
  readonly Properties: { readonly [key: string]: Json }
  readonly Condition?: string
  readonly DeletionPolicy?: string
  readonly UpdateReplacePolicy?: string
}

export type Resources = Record<string, Resource>

export const ref = (name: string): Json => ({ Ref: name })
export const getAtt = (name: string, attribute: string): Json => ({ 'Fn::GetAtt': [name, attribute] })
export const sub = (template: string): Json => ({ 'Fn::Sub': template })

/** A function's logical name as the framework writes it: `jobStatus` → `JobStatus`. */
export const pascal = (name: string): string => `${name.charAt(0).toUpperCase()}${name.slice(1)}`

/** The logical id of the resource a `!GetAtt Name.Arn` names, if it names one. */
export function getAttTarget(value: unknown): string | undefined {
  const getAttValue = typeof value === 'object' && value !== null ? (value as { 'Fn::GetAtt'?: unknown })['Fn::GetAtt'] : undefined
  return Array.isArray(getAttValue) && typeof getAttValue[0] === 'string' ? getAttValue[0] : undefined
}
