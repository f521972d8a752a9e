/**
 * The CDK app (`cdk synth`, `cdk deploy`). The deployment's configuration comes from the first of:
 * the file named by `WHETSTONE_CONFIG`; the file named by the `whetstoneConfig` context value
 * (`cdk synth -c whetstoneConfig=prod.json`); `./whetstone.config.json`; the defaults.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp, InfraConfigError, loadWhetstoneConfig, parseWhetstoneConfig } from '../lib/infra';

// Only reads the context the CLI passes; never synthesized.
const contextFile: unknown = new App({ autoSynth: false }).node.tryGetContext('whetstoneConfig');
const file =
  process.env.WHETSTONE_CONFIG ||
  (typeof contextFile === 'string' && contextFile ? contextFile : undefined) ||
  (existsSync('whetstone.config.json') ? 'whetstone.config.json' : undefined);
try {
  const config = file
    ? loadWhetstoneConfig(resolve(file))
    : parseWhetstoneConfig({}, 'the default configuration');
  buildApp(config).app.synth();
} catch (error) {
  if (!(error instanceof InfraConfigError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
