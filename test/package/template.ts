/** The parts of a synthesized CloudFormation template the package test reads. */
export interface Template {
  Parameters: Record<string, { Default?: string }>;
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

/** The template's resources of one type, by logical id. */
export const resourcesOf = (template: Template, type: string) =>
  Object.fromEntries(Object.entries(template.Resources).filter(([, resource]) => resource.Type === type));

/** The statements of an IAM policy or a queue policy. */
export const statementsOf = (resource: { Properties: Record<string, unknown> }) =>
  (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement;

/** The logical id a `Ref` or `Fn::GetAtt` points at. */
export function logicalIdOf(reference: unknown): string {
  const value = reference as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const id = value.Ref ?? value['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`not a Ref or Fn::GetAtt: ${JSON.stringify(reference)}`);
  return id;
}
