import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { WhetstoneConfig } from './config';
import { DeploymentNames } from './names';
import { ApiStack } from './stacks/api-stack';
import { ComputeStack } from './stacks/compute-stack';
import { PlatformStack } from './stacks/platform-stack';

export interface WhetstoneApp {
  readonly app: App;
  readonly platform: PlatformStack;
  readonly api: ApiStack;
  /** One per compute region, in configuration order. */
  readonly compute: ComputeStack[];
}

/**
 * The deployment's stacks for a configuration, with cdk-nag's AWS Solutions and Serverless packs
 * validating every synth: any finding not acknowledged with a reason fails it.
 */
export function buildApp(config: WhetstoneConfig, props: AppProps = {}): WhetstoneApp {
  const app = new App(props);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  const env = { account: config.account, region: config.controlRegion };
  const names = new DeploymentNames(config);
  const platform = new PlatformStack(app, `${names.stackPrefix}-Platform`, {
    env,
    config,
    description: 'Whetstone: data bucket, its key and access logs, and the table',
  });
  const api = new ApiStack(app, `${names.stackPrefix}-Api`, {
    env,
    config,
    names,
    dataKey: platform.storage.key,
    description: 'Whetstone: the API, its handlers, and the rules and queues that invoke them',
  });
  const compute = Object.keys(config.compute.regions).map(
    (region) =>
      new ComputeStack(app, `${names.stackPrefix}-Compute-${region}`, {
        config,
        region,
        names,
        description: `Whetstone: training compute in ${region} (network, Batch queues, trainer image and job definitions)`,
      }),
  );
  return { app, platform, api, compute };
}
