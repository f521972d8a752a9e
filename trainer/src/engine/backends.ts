import type { Backend } from './backend';
import { BackendUnavailableError } from './errors';
import { ReferenceBackend } from './reference';

/** Back ends by name; faster ones register here and are tested against `reference`. */
const FACTORIES: Readonly<Record<string, () => Backend>> = {
  reference: () => new ReferenceBackend('f32'),
};

export const BACKEND_NAMES = Object.keys(FACTORIES);
export const DEFAULT_BACKEND = 'reference';

export function createBackend(name: string = DEFAULT_BACKEND): Backend {
  const factory = FACTORIES[name];
  if (!factory) {
    throw new BackendUnavailableError(
      name,
      `no back end named "${name}"; available: ${BACKEND_NAMES.join(', ')}`,
    );
  }
  return factory();
}
