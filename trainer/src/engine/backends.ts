import type { Backend } from './backend';
import { BackendUnavailableError } from './errors';
import { loadNativeAddon, NativeBackend } from './native';
import { ReferenceBackend } from './reference';

/** Back ends by name; faster ones register here and are tested against `reference`. */
const FACTORIES: Readonly<Record<string, () => Backend>> = {
  reference: () => new ReferenceBackend('f32'),
  native: () => new NativeBackend(loadNativeAddon()),
};

export const BACKEND_NAMES = Object.keys(FACTORIES);
export const DEFAULT_BACKEND = 'reference';

export interface CreateBackendOptions {
  /** Told once per process when a compiled back end cannot load and `reference` stands in. */
  readonly onFallback?: (message: string) => void;
}

let fallbackTold = false;

/**
 * The back end of that name. A compiled one that cannot load (not built on this machine) falls back
 * to `reference`, which computes the same results more slowly, and says so once.
 */
export function createBackend(name: string = DEFAULT_BACKEND, options: CreateBackendOptions = {}): Backend {
  const factory = FACTORIES[name];
  if (!factory) {
    throw new BackendUnavailableError(
      name,
      `no back end named "${name}"; available: ${BACKEND_NAMES.join(', ')}`,
    );
  }
  try {
    return factory();
  } catch (error) {
    if (!(error instanceof BackendUnavailableError) || name === DEFAULT_BACKEND) throw error;
    if (!fallbackTold) {
      fallbackTold = true;
      (options.onFallback ?? console.warn)(`${error.message}; using the reference back end instead`);
    }
    return new ReferenceBackend('f32');
  }
}
