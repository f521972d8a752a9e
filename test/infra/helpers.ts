import type { AppProps, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
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
