import type { DeviceBuffer, MatmulOptions, MatmulShape } from '../backend';
import { BufferError } from '../errors';
import { ReferenceBackend } from '../reference';
import type { NativeAddon } from './addon';

/**
 * Compiled C++ kernels on the reference back end's memory (Float32Arrays), so each kernel moves
 * over one at a time, tested against the reference it replaces; kernels not yet moved run as
 * the reference runs them.
 */
export class NativeBackend extends ReferenceBackend {
  override readonly name = 'native';
  readonly #addon: NativeAddon;

  constructor(addon: NativeAddon) {
    super('f32');
    this.#addon = addon;
  }

  override matmul(
    out: DeviceBuffer,
    a: DeviceBuffer,
    b: DeviceBuffer,
    shape: MatmulShape,
    options: MatmulOptions = {},
  ): void {
    const { m, n, k } = shape;
    this.#addon.sgemm(
      this.#floats(out, m * n, 'matmul: out'),
      this.#floats(a, m * k, 'matmul: a'),
      this.#floats(b, k * n, 'matmul: b'),
      m,
      n,
      k,
      options.transA ?? false,
      options.transB ?? false,
      options.accumulate ?? false,
      options.alpha ?? 1,
    );
  }

  #floats(buffer: DeviceBuffer, size: number, argument: string): Float32Array {
    const data = this.elements(buffer);
    if (!(data instanceof Float32Array))
      throw new BufferError(`${argument} is an i32 buffer where f32 was expected`);
    if (data.length < size)
      throw new BufferError(`${argument} has ${data.length} elements where ${size} are needed`);
    return data;
  }
}
