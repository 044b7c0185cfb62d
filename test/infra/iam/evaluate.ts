import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { Template } from 'aws-cdk-lib/assertions';

/**
 * The synthesized role policies, made concrete (CloudFormation's Ref, Fn::GetAtt and Fn::Join
 * resolved to ARNs in a fixed account and region), and evaluated by a real IAM policy evaluator
 * (@cloud-copilot/iam-simulate: actions, resources, wildcards and condition operators as IAM
 * applies them).
 */

export const ACCOUNT = '111122223333';
export const REGION = 'eu-west-1';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

export interface PolicyDocument {
  readonly Version: string;
  readonly Statement: readonly Record<string, unknown>[];
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::URLSuffix': 'amazonaws.com',
};

/** The ARN (GetAtt Arn) and Ref of a resource, by its type, named after its logical id. */
function attributes(logicalId: string, type: string): { arn: string; ref: string } {
  const name = logicalId;
  switch (type) {
    case 'AWS::DynamoDB::Table':
      return { arn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${name}`, ref: name };
    case 'AWS::SQS::Queue':
      return {
        arn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`,
        ref: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`,
      };
    case 'AWS::SNS::Topic': {
      const arn = `arn:aws:sns:${REGION}:${ACCOUNT}:${name}`;
      return { arn, ref: arn };
    }
    case 'AWS::S3::Bucket':
      return { arn: `arn:aws:s3:::${name.toLowerCase()}`, ref: name.toLowerCase() };
    case 'AWS::Lambda::Function':
      return { arn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`, ref: name };
    case 'AWS::IAM::Role':
      return { arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, ref: name };
    case 'AWS::KMS::Key':
      return { arn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/${name}`, ref: name };
    case 'AWS::Logs::LogGroup':
      return { arn: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${name}:*`, ref: name };
    default:
      return { arn: `arn:aws:unknown:${REGION}:${ACCOUNT}:${name}`, ref: name };
  }
}

export class ConcreteTemplate {
  private readonly resources: Resources;

  constructor(template: Template) {
    this.resources = (template.toJSON() as { Resources: Resources }).Resources;
  }

  /** The ARN of the one resource of `type` whose logical id starts with `prefix`. */
  arnOf(type: string, prefix: string): string {
    const [id] = this.named(type, prefix);
    return attributes(id, type).arn;
  }

  /** The identity policies of the role of the Lambda function whose logical id starts with `prefix`. */
  policiesOfFunction(prefix: string): { name: string; policy: PolicyDocument }[] {
    const [, fn] = this.named('AWS::Lambda::Function', prefix);
    const roleRef = fn.Properties?.Role as { 'Fn::GetAtt': [string, string] };
    return this.policiesOfRole(roleRef['Fn::GetAtt'][0]);
  }

  policiesOfRole(roleLogicalId: string): { name: string; policy: PolicyDocument }[] {
    return Object.entries(this.resources)
      .filter(
        ([, r]) =>
          r.Type === 'AWS::IAM::Policy' &&
          JSON.stringify(r.Properties?.Roles ?? []).includes(`"${roleLogicalId}"`),
      )
      .map(([id, r]) => ({ name: id, policy: this.resolve(r.Properties?.PolicyDocument) as PolicyDocument }));
  }

  resourceProperties(type: string, prefix: string): Record<string, unknown> {
    return this.named(type, prefix)[1].Properties ?? {};
  }

  private named(type: string, prefix: string): [string, Resources[string]] {
    const found = Object.entries(this.resources).filter(
      ([id, r]) => r.Type === type && id.startsWith(prefix),
    );
    if (found.length !== 1) {
      throw new Error(
        `expected one ${type} named ${prefix}*, found ${found.map(([id]) => id).join(', ') || 'none'}`,
      );
    }
    return found[0]!;
  }

  /** A template value with every intrinsic replaced by the string it stands for. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.resolve(v));
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [fn, arg] = entries[0]!;
      if (fn === 'Ref') return this.ref(arg as string);
      if (fn === 'Fn::GetAtt') {
        const [id, attribute] = arg as [string, string];
        const resource = this.resource(id);
        if (attribute !== 'Arn' && attribute !== 'TopicArn')
          throw new Error(`unresolved GetAtt ${id}.${attribute}`);
        return attributes(id, resource.Type).arn;
      }
      if (fn === 'Fn::Join') {
        const [separator, parts] = arg as [string, unknown[]];
        return parts.map((p) => this.resolve(p)).join(separator);
      }
      if (fn.startsWith('Fn::')) throw new Error(`unresolved intrinsic ${fn}`);
    }
    return Object.fromEntries(entries.map(([k, v]) => [k, this.resolve(v)]));
  }

  private ref(id: string): string {
    const pseudo = PSEUDO[id];
    if (pseudo !== undefined) return pseudo;
    const resource = this.resource(id);
    return attributes(id, resource.Type).ref;
  }

  private resource(id: string): Resources[string] {
    const resource = this.resources[id];
    if (!resource) throw new Error(`no resource ${id} in the template`);
    return resource;
  }
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

/** IAM's decision for one request by a role holding `policies` (same account, no SCPs). */
export async function decide(
  policies: { name: string; policy: PolicyDocument }[],
  action: string,
  resourceArn: string,
  context: Record<string, string | string[]> = {},
): Promise<Decision> {
  const response = await runSimulation(
    {
      identityPolicies: policies as never,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      request: {
        action,
        principal: `arn:aws:iam::${ACCOUNT}:role/caller`,
        resource: { accountId: ACCOUNT, resource: resourceArn },
        contextVariables: context,
      },
    } as never,
    {},
  );
  if (response.resultType === 'error') {
    throw new Error(`the evaluator refused ${action} on ${resourceArn}: ${JSON.stringify(response.errors)}`);
  }
  return response.overallResult as Decision;
}
