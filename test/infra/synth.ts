import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { parseStackConfig, type StackConfigInput } from '../../lib/config';
import { SluiceStack } from '../../lib/constructs/sluice-stack';
import { validConfig } from './fixtures';

/** An app writing to its own temporary directory; bundling skipped unless asked for. */
export function testApp(options: { bundle?: boolean; context?: Record<string, unknown> } = {}): App {
  return new App({
    outdir: mkdtempSync(join(tmpdir(), 'sluice-cdk-')),
    context: { ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }), ...options.context },
  });
}

/** The stack for a configuration (the fixture with `overrides`), and its template. */
export function synthStack(
  overrides: Partial<StackConfigInput> = {},
  extend?: (stack: SluiceStack) => void,
): { stack: SluiceStack; template: Template } {
  const stack = new SluiceStack(testApp(), 'Sluice-test', {
    config: parseStackConfig(validConfig(overrides)),
  });
  extend?.(stack);
  return { stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The one resource of a type whose logical id starts with `prefix`, as [logicalId, properties]. */
export function resourceNamed(
  template: Template,
  type: string,
  prefix: string,
): [string, Record<string, unknown>] {
  const found = Object.entries(template.findResources(type) as Resources).filter(([id]) =>
    id.startsWith(prefix),
  );
  if (found.length !== 1) {
    throw new Error(
      `expected one ${type} named ${prefix}*, found ${found.map(([id]) => id).join(', ') || 'none'}`,
    );
  }
  const [id, resource] = found[0]!;
  return [id, resource.Properties ?? {}];
}

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

/** The statements of the inline policy attached to a role, as `{ actions, resource }` pairs. */
export function statementsOfRole(
  template: Template,
  roleLogicalId: string,
): { actions: string[]; resource: unknown }[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy') as Resources).filter((policy) =>
    JSON.stringify(policy.Properties?.Roles).includes(`"${roleLogicalId}"`),
  );
  return policies.flatMap((policy) => {
    const document = policy.Properties?.PolicyDocument as { Statement?: Statement[] } | undefined;
    return (document?.Statement ?? []).map((statement) => ({
      actions: [statement.Action].flat(),
      resource: statement.Resource,
    }));
  });
}
