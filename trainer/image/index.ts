export {
  BUILD_RECORD,
  type BuildRecord,
  type CompileOptions,
  compileTrainer,
  NATIVE_ADDON,
  NATIVE_LOADER,
  TRAINER_ENTRY,
} from './compile';
export {
  ImageBuildError,
  MissingRuntimePackageError,
  NativeAddonMissingError,
  OutputDirectoryError,
} from './errors';
