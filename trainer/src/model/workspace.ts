import type { Backend, DeviceBuffer, DType } from '../engine/backend';

/**
 * Named scratch memory that grows to the largest size asked of it and hands out views of the size
 * asked now, so batches of different lengths reuse one allocation per name.
 */
export class Workspace {
  readonly #backend: Backend;
  readonly #buffers = new Map<string, DeviceBuffer>();

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  get(name: string, dtype: DType, length: number): DeviceBuffer {
    let buffer = this.#buffers.get(name);
    if (!buffer || buffer.length < length || buffer.dtype !== dtype) {
      if (buffer) this.#backend.release(buffer);
      buffer = this.#backend.allocate(dtype, length);
      this.#buffers.set(name, buffer);
    }
    return buffer.length === length ? buffer : this.#backend.view(buffer, 0, length);
  }

  /** A zeroed view, for gradients that kernels add into. */
  zeroed(name: string, length: number): DeviceBuffer {
    const buffer = this.get(name, 'f32', length);
    this.#backend.fill(buffer, 0);
    return buffer;
  }
}
