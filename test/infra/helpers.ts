import { type AppProps, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { IConstruct } from 'constructs';
import cdkJson from '../../cdk.json';
import {
  buildApp,
  parseWhetstoneConfig,
  type WhetstoneApp,
  type WhetstoneConfigInput,
} from '../../lib/infra';

export interface TestAppOptions {
  /** Run esbuild for every function, as `cdk synth` does; default off, which keeps synth fast. */
  readonly bundling?: boolean;
}

/** The app as `cdk synth` builds it: cdk.json's feature flags, nag packs on. */
export function testApp(
  config: WhetstoneConfigInput = {},
  props: AppProps = {},
  options: TestAppOptions = {},
): WhetstoneApp {
  return buildApp(parseWhetstoneConfig(config, 'test config'), {
    ...props,
    context: {
      ...cdkJson.context,
      ...(options.bundling ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...props.context,
    },
  });
}

/** A synthesized app (cdk-nag has passed, or synth would have thrown) and its stacks' templates. */
export interface Synthesized {
  readonly built: WhetstoneApp;
  readonly assembly: CloudAssembly;
  template(stack: Stack): Template;
}

export function synthesize(config: WhetstoneConfigInput = {}, options: TestAppOptions = {}): Synthesized {
  const built = testApp(config, {}, options);
  const assembly = built.app.synth();
  return {
    built,
    assembly,
    template: (stack) => Template.fromJSON(assembly.getStackByName(stack.stackName).template),
  };
}

/** Synthesizes the app (which runs cdk-nag) and returns the platform stack's template. */
export function platformTemplate(config: WhetstoneConfigInput = {}): Template {
  const synthesized = synthesize(config);
  return synthesized.template(synthesized.built.platform);
}

/** One `Validations.of(construct).acknowledge(...)` as the construct's metadata records it. */
export interface RecordedAcknowledgement {
  readonly construct: IConstruct;
  readonly path: string;
  /** Qualified by its pack, as cdk-nag matches it: `AwsSolutions::AwsSolutions-IAM5[Resource::...]`. */
  readonly id: string;
  readonly reason: string;
}

/** Every acknowledgement on `scope` and below it, in tree order. */
export function recordedAcknowledgements(scope: IConstruct): RecordedAcknowledgement[] {
  return scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          construct,
          path: construct.node.path,
          id,
          reason,
        })),
      ),
  );
}
