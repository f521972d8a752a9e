export { buildApp, type WhetstoneApp } from './app';
export {
  LOG_RETENTION_DAYS,
  loadWhetstoneConfig,
  parseWhetstoneConfig,
  type WhetstoneConfig,
  type WhetstoneConfigInput,
  whetstoneConfigSchema,
} from './config';
export { DataStorage, type DataStorageProps } from './constructs/storage';
export { PlatformTable, type PlatformTableProps } from './constructs/table';
export { InfraConfigError } from './errors';
export { PlatformStack, type PlatformStackProps } from './stacks/platform-stack';
