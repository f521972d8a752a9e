import type { AppProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import cdkJson from '../../cdk.json';
import {
  buildApp,
  parseWhetstoneConfig,
  type WhetstoneApp,
  type WhetstoneConfigInput,
} from '../../lib/infra';

/** The app as `cdk synth` builds it: cdk.json's feature flags, nag packs on. */
export function testApp(config: WhetstoneConfigInput = {}, props: AppProps = {}): WhetstoneApp {
  return buildApp(parseWhetstoneConfig(config, 'test config'), {
    ...props,
    context: { ...cdkJson.context, ...props.context },
  });
}

/** Synthesizes the app (which runs cdk-nag) and returns the platform stack's template. */
export function platformTemplate(config: WhetstoneConfigInput = {}): Template {
  const built = testApp(config);
  const assembly = built.app.synth();
  return Template.fromJSON(assembly.getStackByName(built.platform.stackName).template);
}
