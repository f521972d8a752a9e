/**
 * The CDK app (`cdk synth`, `cdk deploy`): reads the deployment's configuration from the file named
 * by `WHETSTONE_CONFIG`, else `./whetstone.config.json` when present, else uses the defaults.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildApp, InfraConfigError, loadWhetstoneConfig, parseWhetstoneConfig } from '../lib/infra';

const file =
  process.env.WHETSTONE_CONFIG || (existsSync('whetstone.config.json') ? 'whetstone.config.json' : undefined);
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
