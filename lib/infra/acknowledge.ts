import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** A cdk-nag rule id, e.g. `AwsSolutions-IAM5` or `Serverless-LambdaDLQ`. */
export type NagRule = `AwsSolutions-${string}` | `Serverless-${string}`;

/**
 * Acknowledges one cdk-nag finding on one construct (and so on its children only), with the
 * reason a reviewer reads in the validation report. With `finding`, only that granular finding
 * (`Resource::arn:...`) is covered, never the rule as a whole.
 */
export function acknowledge(scope: IConstruct, rule: NagRule, reason: string, finding?: string): void {
  const pack = rule.slice(0, rule.indexOf('-'));
  Validations.of(scope).acknowledge({
    id: `${pack}::${rule}${finding === undefined ? '' : `[${finding}]`}`,
    reason,
  });
}

/**
 * An IAM resource as cdk-nag writes it in a granular IAM5 finding: the template value with
 * `Ref`s as `<Name>` and `Fn::GetAtt`s as `<Name.Attr>`, joined.
 */
export function nagResource(scope: IConstruct, arn: string): string {
  return `Resource::${flatten(Stack.of(scope).resolve(arn))}`;
}

function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if (typeof object.Ref === 'string') return `<${object.Ref}>`;
    const getAtt = object['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
    const join = object['Fn::Join'];
    if (Array.isArray(join)) return (join[1] as unknown[]).map(flatten).join(join[0] as string);
  }
  throw new Error(`Cannot write ${JSON.stringify(value)} as a cdk-nag finding`);
}
