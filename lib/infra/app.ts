import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { WhetstoneConfig } from './config';
import { PlatformStack } from './stacks/platform-stack';

export interface WhetstoneApp {
  readonly app: App;
  readonly platform: PlatformStack;
}

/**
 * The deployment's stacks for a configuration, with cdk-nag's AWS Solutions and Serverless packs
 * validating every synth: any finding not acknowledged with a reason fails it.
 */
export function buildApp(config: WhetstoneConfig, props: AppProps = {}): WhetstoneApp {
  const app = new App(props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  const env = { account: config.account, region: config.controlRegion };
  const platform = new PlatformStack(app, `${stackPrefix(config)}-Platform`, {
    env,
    config,
    description: 'Whetstone: data bucket, its key and access logs, and the table',
  });
  return { app, platform };
}

function stackPrefix(config: WhetstoneConfig): string {
  return config.deploymentName
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
