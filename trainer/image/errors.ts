export interface ImageBuildErrorOptions {
  readonly cause?: unknown;
}

/** Base of every error the image build throws: the compiled trainer would not run as the image runs it. */
export class ImageBuildError extends Error {
  constructor(message: string, options: ImageBuildErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ImageBuildError';
  }
}

/**
 * The trainer imports a package the image does not install: the runtime stage keeps production
 * dependencies only (`npm prune --omit=dev`), so a devDependency or an unlisted package is missing there.
 */
export class MissingRuntimePackageError extends ImageBuildError {
  readonly importer: string;
  readonly packageName: string;
  constructor(importer: string, packageName: string, listedAs: 'devDependencies' | null) {
    super(
      listedAs
        ? `${importer} imports '${packageName}', which package.json lists under devDependencies: the image installs dependencies only, so move it there`
        : `${importer} imports '${packageName}', which package.json does not list under dependencies, so the image would not install it`,
    );
    this.name = 'MissingRuntimePackageError';
    this.importer = importer;
    this.packageName = packageName;
  }
}

/** The native back end was required (the image build requires it) and is not built. */
export class NativeAddonMissingError extends ImageBuildError {
  readonly path: string;
  constructor(path: string) {
    super(
      `The native addon ${path} is not built; \`npm ci\` builds it through trainer/native/build.js, which needs python3, make and g++`,
    );
    this.name = 'NativeAddonMissingError';
    this.path = path;
  }
}

/** `out` holds files this build did not write; it refuses to delete them. */
export class OutputDirectoryError extends ImageBuildError {
  readonly path: string;
  constructor(path: string) {
    super(
      `The output directory ${path} is not empty and was not written by a trainer compile; give an empty or new one`,
    );
    this.name = 'OutputDirectoryError';
    this.path = path;
  }
}
