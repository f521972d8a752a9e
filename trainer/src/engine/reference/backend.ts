import type {
  AdamWStep,
  AttentionShape,
  AttentionWindow,
  Backend,
  DeviceBuffer,
  DType,
  MatmulOptions,
  MatmulShape,
} from '../backend';
import { BufferError } from '../errors';
import { adamw } from './adamw';
import type { FloatArray } from './arrays';
import { attentionBackward, attentionForward } from './attention';
import {
  add,
  addRowVector,
  axpy,
  clipToNorm,
  dropoutMask,
  multiply,
  scale,
  sumOfSquares,
  sumRows,
  swigluBackward,
  swigluForward,
} from './elementwise';
import { embeddingBackward, embeddingForward } from './embedding';
import { argmax, crossEntropyBackward, crossEntropyForward } from './loss';
import { matmul } from './matmul';
import { rmsNormBackward, rmsNormForward } from './rms-norm';
import { rotate } from './rope';

export type ReferencePrecision = 'f32' | 'f64';

class ReferenceBuffer implements DeviceBuffer {
  constructor(
    readonly dtype: DType,
    readonly data: FloatArray | Int32Array,
  ) {}
  get length(): number {
    return this.data.length;
  }
}

/**
 * Plain TypeScript kernels, run as they are called: simple enough to be obviously right, and the
 * oracle every other back end is tested against. `f64` keeps floats in Float64Array, for
 * finite-difference gradient checks; `f32` is the training precision.
 */
export class ReferenceBackend implements Backend {
  readonly name: string;
  readonly precision: ReferencePrecision;

  constructor(precision: ReferencePrecision = 'f32') {
    this.precision = precision;
    this.name = precision === 'f32' ? 'reference' : 'reference-f64';
  }

  allocate(dtype: DType, length: number): DeviceBuffer {
    if (!Number.isInteger(length) || length < 0) throw new BufferError(`cannot allocate ${length} elements`);
    if (dtype === 'i32') return new ReferenceBuffer(dtype, new Int32Array(length));
    return new ReferenceBuffer(
      dtype,
      this.precision === 'f64' ? new Float64Array(length) : new Float32Array(length),
    );
  }

  view(buffer: DeviceBuffer, offset: number, length: number): DeviceBuffer {
    const { data } = this.#own(buffer);
    if (offset < 0 || length < 0 || offset + length > data.length) {
      throw new BufferError(
        `view [${offset}, ${offset + length}) is outside a buffer of ${data.length} elements`,
      );
    }
    return new ReferenceBuffer(buffer.dtype, data.subarray(offset, offset + length));
  }

  write(buffer: DeviceBuffer, values: ArrayLike<number>, offset = 0): void {
    const { data } = this.#own(buffer);
    if (offset < 0 || offset + values.length > data.length) {
      throw new BufferError(
        `writing ${values.length} elements at ${offset} overruns a buffer of ${data.length}`,
      );
    }
    data.set(values, offset);
  }

  async read(buffer: DeviceBuffer): Promise<Float32Array | Int32Array> {
    const { data } = this.#own(buffer);
    return data instanceof Int32Array ? data.slice() : Float32Array.from(data);
  }

  /** Memory is the garbage collector's: a released buffer is simply no longer referenced. */
  release(buffer: DeviceBuffer): void {
    this.#own(buffer);
  }

  /** The buffer's elements themselves, at full precision: for tests that check kernels. */
  elements(buffer: DeviceBuffer): FloatArray | Int32Array {
    return this.#own(buffer).data;
  }

  fill(buffer: DeviceBuffer, value: number): void {
    this.#own(buffer).data.fill(value);
  }

  copy(destination: DeviceBuffer, source: DeviceBuffer): void {
    const to = this.#own(destination).data;
    const from = this.#own(source).data;
    if (to.length !== from.length) throw new BufferError(`copy of ${from.length} elements into ${to.length}`);
    to.set(from);
  }

  matmul(
    out: DeviceBuffer,
    a: DeviceBuffer,
    b: DeviceBuffer,
    shape: MatmulShape,
    options?: MatmulOptions,
  ): void {
    matmul(
      this.floats(out, shape.m * shape.n, 'matmul: out'),
      this.floats(a, shape.m * shape.k, 'matmul: a'),
      this.floats(b, shape.k * shape.n, 'matmul: b'),
      shape,
      options,
    );
  }

  addRowVector(out: DeviceBuffer, vector: DeviceBuffer, rows: number, cols: number): void {
    addRowVector(
      this.floats(out, rows * cols, 'addRowVector: out'),
      this.floats(vector, cols, 'addRowVector: vector'),
      rows,
      cols,
    );
  }

  sumRows(sums: DeviceBuffer, x: DeviceBuffer, rows: number, cols: number): void {
    sumRows(this.floats(sums, cols, 'sumRows: sums'), this.floats(x, rows * cols, 'sumRows: x'), rows, cols);
  }

  add(out: DeviceBuffer, a: DeviceBuffer, b: DeviceBuffer): void {
    add(
      this.floats(out, undefined, 'add: out'),
      this.floats(a, out.length, 'add: a'),
      this.floats(b, out.length, 'add: b'),
    );
  }

  multiply(out: DeviceBuffer, a: DeviceBuffer, b: DeviceBuffer, accumulate = false): void {
    multiply(
      this.floats(out, undefined, 'multiply: out'),
      this.floats(a, out.length, 'multiply: a'),
      this.floats(b, out.length, 'multiply: b'),
      accumulate,
    );
  }

  axpy(y: DeviceBuffer, x: DeviceBuffer, alpha: number): void {
    axpy(this.floats(y, undefined, 'axpy: y'), this.floats(x, y.length, 'axpy: x'), alpha);
  }

  scale(x: DeviceBuffer, factor: number): void {
    scale(this.floats(x, undefined, 'scale: x'), factor);
  }

  sumOfSquares(out: DeviceBuffer, x: DeviceBuffer): void {
    sumOfSquares(this.floats(out, 1, 'sumOfSquares: out'), this.floats(x, undefined, 'sumOfSquares: x'));
  }

  clipToNorm(x: DeviceBuffer, sumOfSquares: DeviceBuffer, maxNorm: number): void {
    clipToNorm(
      this.floats(x, undefined, 'clipToNorm: x'),
      this.floats(sumOfSquares, 1, 'clipToNorm: sumOfSquares')[0]!,
      maxNorm,
    );
  }

  dropoutMask(mask: DeviceBuffer, probability: number, seed: number): void {
    if (!(probability >= 0 && probability < 1)) {
      throw new BufferError(`dropout probability must be in [0, 1), got ${probability}`);
    }
    dropoutMask(this.floats(mask, undefined, 'dropoutMask: mask'), probability, seed);
  }

  embeddingForward(
    out: DeviceBuffer,
    table: DeviceBuffer,
    tokens: DeviceBuffer,
    count: number,
    channels: number,
  ): void {
    embeddingForward(
      this.floats(out, count * channels, 'embeddingForward: out'),
      this.floats(table, undefined, 'embeddingForward: table'),
      this.indices(tokens, count, 'embeddingForward: tokens'),
      count,
      channels,
    );
  }

  embeddingBackward(
    dtable: DeviceBuffer,
    dout: DeviceBuffer,
    tokens: DeviceBuffer,
    count: number,
    channels: number,
  ): void {
    embeddingBackward(
      this.floats(dtable, undefined, 'embeddingBackward: dtable'),
      this.floats(dout, count * channels, 'embeddingBackward: dout'),
      this.indices(tokens, count, 'embeddingBackward: tokens'),
      count,
      channels,
    );
  }

  rmsNormForward(
    out: DeviceBuffer,
    rstd: DeviceBuffer,
    x: DeviceBuffer,
    weight: DeviceBuffer,
    rows: number,
    cols: number,
    epsilon: number,
  ): void {
    const size = rows * cols;
    rmsNormForward(
      this.floats(out, size, 'rmsNormForward: out'),
      this.floats(rstd, rows, 'rmsNormForward: rstd'),
      this.floats(x, size, 'rmsNormForward: x'),
      this.floats(weight, cols, 'rmsNormForward: weight'),
      rows,
      cols,
      epsilon,
    );
  }

  rmsNormBackward(
    dx: DeviceBuffer,
    dweight: DeviceBuffer | null,
    dout: DeviceBuffer,
    x: DeviceBuffer,
    weight: DeviceBuffer,
    rstd: DeviceBuffer,
    rows: number,
    cols: number,
  ): void {
    const size = rows * cols;
    rmsNormBackward(
      this.floats(dx, size, 'rmsNormBackward: dx'),
      dweight ? this.floats(dweight, cols, 'rmsNormBackward: dweight') : null,
      this.floats(dout, size, 'rmsNormBackward: dout'),
      this.floats(x, size, 'rmsNormBackward: x'),
      this.floats(weight, cols, 'rmsNormBackward: weight'),
      this.floats(rstd, rows, 'rmsNormBackward: rstd'),
      rows,
      cols,
    );
  }

  ropeForward(
    x: DeviceBuffer,
    positions: DeviceBuffer,
    cos: DeviceBuffer,
    sin: DeviceBuffer,
    count: number,
    heads: number,
    headDim: number,
  ): void {
    rotate(
      this.floats(x, count * heads * headDim, 'ropeForward: x'),
      this.indices(positions, count, 'ropeForward: positions'),
      this.floats(cos, undefined, 'ropeForward: cos'),
      this.floats(sin, undefined, 'ropeForward: sin'),
      count,
      heads,
      headDim,
      1,
    );
  }

  ropeBackward(
    dx: DeviceBuffer,
    positions: DeviceBuffer,
    cos: DeviceBuffer,
    sin: DeviceBuffer,
    count: number,
    heads: number,
    headDim: number,
  ): void {
    rotate(
      this.floats(dx, count * heads * headDim, 'ropeBackward: dx'),
      this.indices(positions, count, 'ropeBackward: positions'),
      this.floats(cos, undefined, 'ropeBackward: cos'),
      this.floats(sin, undefined, 'ropeBackward: sin'),
      count,
      heads,
      headDim,
      -1,
    );
  }

  attentionForward(
    out: DeviceBuffer,
    logSumExp: DeviceBuffer,
    q: DeviceBuffer,
    k: DeviceBuffer,
    v: DeviceBuffer,
    window: AttentionWindow,
    shape: AttentionShape,
  ): void {
    const { rows, qSize, kvSize } = attentionSizes(shape);
    attentionForward(
      this.floats(out, qSize, 'attentionForward: out'),
      this.floats(logSumExp, rows * shape.heads, 'attentionForward: logSumExp'),
      this.floats(q, qSize, 'attentionForward: q'),
      this.floats(k, kvSize, 'attentionForward: k'),
      this.floats(v, kvSize, 'attentionForward: v'),
      {
        start: this.indices(window.start, rows, 'attentionForward: window.start'),
        end: this.indices(window.end, rows, 'attentionForward: window.end'),
      },
      shape,
    );
  }

  attentionBackward(
    dq: DeviceBuffer,
    dk: DeviceBuffer,
    dv: DeviceBuffer,
    dout: DeviceBuffer,
    q: DeviceBuffer,
    k: DeviceBuffer,
    v: DeviceBuffer,
    out: DeviceBuffer,
    logSumExp: DeviceBuffer,
    window: AttentionWindow,
    shape: AttentionShape,
  ): void {
    const { rows, qSize, kvSize } = attentionSizes(shape);
    attentionBackward(
      this.floats(dq, qSize, 'attentionBackward: dq'),
      this.floats(dk, kvSize, 'attentionBackward: dk'),
      this.floats(dv, kvSize, 'attentionBackward: dv'),
      this.floats(dout, qSize, 'attentionBackward: dout'),
      this.floats(q, qSize, 'attentionBackward: q'),
      this.floats(k, kvSize, 'attentionBackward: k'),
      this.floats(v, kvSize, 'attentionBackward: v'),
      this.floats(out, qSize, 'attentionBackward: out'),
      this.floats(logSumExp, rows * shape.heads, 'attentionBackward: logSumExp'),
      {
        start: this.indices(window.start, rows, 'attentionBackward: window.start'),
        end: this.indices(window.end, rows, 'attentionBackward: window.end'),
      },
      shape,
    );
  }

  swigluForward(out: DeviceBuffer, gate: DeviceBuffer, up: DeviceBuffer): void {
    swigluForward(
      this.floats(out, undefined, 'swigluForward: out'),
      this.floats(gate, out.length, 'swigluForward: gate'),
      this.floats(up, out.length, 'swigluForward: up'),
    );
  }

  swigluBackward(
    dgate: DeviceBuffer,
    dup: DeviceBuffer,
    dout: DeviceBuffer,
    gate: DeviceBuffer,
    up: DeviceBuffer,
  ): void {
    const size = dout.length;
    swigluBackward(
      this.floats(dgate, size, 'swigluBackward: dgate'),
      this.floats(dup, size, 'swigluBackward: dup'),
      this.floats(dout, undefined, 'swigluBackward: dout'),
      this.floats(gate, size, 'swigluBackward: gate'),
      this.floats(up, size, 'swigluBackward: up'),
    );
  }

  crossEntropyForward(
    losses: DeviceBuffer,
    logits: DeviceBuffer,
    targets: DeviceBuffer,
    rows: number,
    vocab: number,
  ): void {
    crossEntropyForward(
      this.floats(losses, rows, 'crossEntropyForward: losses'),
      this.floats(logits, rows * vocab, 'crossEntropyForward: logits'),
      this.indices(targets, rows, 'crossEntropyForward: targets'),
      rows,
      vocab,
    );
  }

  crossEntropyBackward(
    dlogits: DeviceBuffer,
    logits: DeviceBuffer,
    targets: DeviceBuffer,
    weights: DeviceBuffer,
    scale: number,
    rows: number,
    vocab: number,
  ): void {
    const size = rows * vocab;
    crossEntropyBackward(
      this.floats(dlogits, size, 'crossEntropyBackward: dlogits'),
      this.floats(logits, size, 'crossEntropyBackward: logits'),
      this.indices(targets, rows, 'crossEntropyBackward: targets'),
      this.floats(weights, rows, 'crossEntropyBackward: weights'),
      scale,
      rows,
      vocab,
    );
  }

  argmax(out: DeviceBuffer, x: DeviceBuffer, rows: number, cols: number): void {
    argmax(this.indices(out, rows, 'argmax: out'), this.floats(x, rows * cols, 'argmax: x'), rows, cols);
  }

  adamw(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, step: AdamWStep): void {
    const size = param.length;
    adamw(
      this.floats(param, undefined, 'adamw: param'),
      this.floats(grad, size, 'adamw: grad'),
      this.floats(m, size, 'adamw: m'),
      this.floats(v, size, 'adamw: v'),
      step,
    );
  }

  #own(buffer: DeviceBuffer): ReferenceBuffer {
    if (!(buffer instanceof ReferenceBuffer))
      throw new BufferError(`a buffer from another back end was passed to ${this.name}`);
    return buffer;
  }

  /** The float elements of a buffer, checked to hold at least `size` of them; for kernels of subclasses too. */
  protected floats(buffer: DeviceBuffer, size?: number, argument = 'a float argument'): FloatArray {
    const { data } = this.#own(buffer);
    if (data instanceof Int32Array)
      throw new BufferError(`${argument} is an i32 buffer where f32 was expected`);
    if (size !== undefined && data.length < size) {
      throw new BufferError(`${argument} has ${data.length} elements where ${size} are needed`);
    }
    return data;
  }

  /** The i32 elements of a buffer, checked to hold at least `size` of them. */
  protected indices(buffer: DeviceBuffer, size: number, argument = 'an index argument'): Int32Array {
    const { data } = this.#own(buffer);
    if (!(data instanceof Int32Array))
      throw new BufferError(`${argument} is an f32 buffer where i32 was expected`);
    if (data.length < size)
      throw new BufferError(`${argument} has ${data.length} elements where ${size} are needed`);
    return data;
  }
}

/** Element counts of attention's arguments; the query heads must share key/value heads evenly. */
export function attentionSizes(shape: AttentionShape): { rows: number; qSize: number; kvSize: number } {
  if (shape.heads % shape.kvHeads !== 0) {
    throw new BufferError(
      `attention: ${shape.heads} heads are not a multiple of ${shape.kvHeads} key/value heads`,
    );
  }
  const rows = shape.batch * shape.queries;
  return {
    rows,
    qSize: rows * shape.heads * shape.headDim,
    kvSize: shape.batch * shape.keys * shape.kvHeads * shape.headDim,
  };
}
