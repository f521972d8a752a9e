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
      this.#f(out, shape.m * shape.n, 'matmul: out'),
      this.#f(a, shape.m * shape.k, 'matmul: a'),
      this.#f(b, shape.k * shape.n, 'matmul: b'),
      shape,
      options,
    );
  }

  addRowVector(out: DeviceBuffer, vector: DeviceBuffer, rows: number, cols: number): void {
    addRowVector(
      this.#f(out, rows * cols, 'addRowVector: out'),
      this.#f(vector, cols, 'addRowVector: vector'),
      rows,
      cols,
    );
  }

  sumRows(sums: DeviceBuffer, x: DeviceBuffer, rows: number, cols: number): void {
    sumRows(this.#f(sums, cols, 'sumRows: sums'), this.#f(x, rows * cols, 'sumRows: x'), rows, cols);
  }

  add(out: DeviceBuffer, a: DeviceBuffer, b: DeviceBuffer): void {
    add(
      this.#f(out, undefined, 'add: out'),
      this.#f(a, out.length, 'add: a'),
      this.#f(b, out.length, 'add: b'),
    );
  }

  multiply(out: DeviceBuffer, a: DeviceBuffer, b: DeviceBuffer, accumulate = false): void {
    multiply(
      this.#f(out, undefined, 'multiply: out'),
      this.#f(a, out.length, 'multiply: a'),
      this.#f(b, out.length, 'multiply: b'),
      accumulate,
    );
  }

  axpy(y: DeviceBuffer, x: DeviceBuffer, alpha: number): void {
    axpy(this.#f(y, undefined, 'axpy: y'), this.#f(x, y.length, 'axpy: x'), alpha);
  }

  scale(x: DeviceBuffer, factor: number): void {
    scale(this.#f(x, undefined, 'scale: x'), factor);
  }

  sumOfSquares(out: DeviceBuffer, x: DeviceBuffer): void {
    sumOfSquares(this.#f(out, 1, 'sumOfSquares: out'), this.#f(x, undefined, 'sumOfSquares: x'));
  }

  clipToNorm(x: DeviceBuffer, sumOfSquares: DeviceBuffer, maxNorm: number): void {
    clipToNorm(
      this.#f(x, undefined, 'clipToNorm: x'),
      this.#f(sumOfSquares, 1, 'clipToNorm: sumOfSquares')[0]!,
      maxNorm,
    );
  }

  dropoutMask(mask: DeviceBuffer, probability: number, seed: number): void {
    if (!(probability >= 0 && probability < 1)) {
      throw new BufferError(`dropout probability must be in [0, 1), got ${probability}`);
    }
    dropoutMask(this.#f(mask, undefined, 'dropoutMask: mask'), probability, seed);
  }

  embeddingForward(
    out: DeviceBuffer,
    table: DeviceBuffer,
    tokens: DeviceBuffer,
    count: number,
    channels: number,
  ): void {
    embeddingForward(
      this.#f(out, count * channels, 'embeddingForward: out'),
      this.#f(table, undefined, 'embeddingForward: table'),
      this.#i(tokens, count, 'embeddingForward: tokens'),
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
      this.#f(dtable, undefined, 'embeddingBackward: dtable'),
      this.#f(dout, count * channels, 'embeddingBackward: dout'),
      this.#i(tokens, count, 'embeddingBackward: tokens'),
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
      this.#f(out, size, 'rmsNormForward: out'),
      this.#f(rstd, rows, 'rmsNormForward: rstd'),
      this.#f(x, size, 'rmsNormForward: x'),
      this.#f(weight, cols, 'rmsNormForward: weight'),
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
      this.#f(dx, size, 'rmsNormBackward: dx'),
      dweight ? this.#f(dweight, cols, 'rmsNormBackward: dweight') : null,
      this.#f(dout, size, 'rmsNormBackward: dout'),
      this.#f(x, size, 'rmsNormBackward: x'),
      this.#f(weight, cols, 'rmsNormBackward: weight'),
      this.#f(rstd, rows, 'rmsNormBackward: rstd'),
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
      this.#f(x, count * heads * headDim, 'ropeForward: x'),
      this.#i(positions, count, 'ropeForward: positions'),
      this.#f(cos, undefined, 'ropeForward: cos'),
      this.#f(sin, undefined, 'ropeForward: sin'),
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
      this.#f(dx, count * heads * headDim, 'ropeBackward: dx'),
      this.#i(positions, count, 'ropeBackward: positions'),
      this.#f(cos, undefined, 'ropeBackward: cos'),
      this.#f(sin, undefined, 'ropeBackward: sin'),
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
    const { queries, keys, qSize, kvSize } = this.#attentionSizes(shape);
    attentionForward(
      this.#f(out, qSize, 'attentionForward: out'),
      this.#f(logSumExp, shape.batch * shape.heads * shape.queries, 'attentionForward: logSumExp'),
      this.#f(q, qSize, 'attentionForward: q'),
      this.#f(k, kvSize, 'attentionForward: k'),
      this.#f(v, kvSize, 'attentionForward: v'),
      {
        start: this.#i(window.start, queries, 'attentionForward: window.start'),
        end: this.#i(window.end, queries, 'attentionForward: window.end'),
      },
      { ...shape, keys },
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
    const { queries, qSize, kvSize } = this.#attentionSizes(shape);
    attentionBackward(
      this.#f(dq, qSize, 'attentionBackward: dq'),
      this.#f(dk, kvSize, 'attentionBackward: dk'),
      this.#f(dv, kvSize, 'attentionBackward: dv'),
      this.#f(dout, qSize, 'attentionBackward: dout'),
      this.#f(q, qSize, 'attentionBackward: q'),
      this.#f(k, kvSize, 'attentionBackward: k'),
      this.#f(v, kvSize, 'attentionBackward: v'),
      this.#f(out, qSize, 'attentionBackward: out'),
      this.#f(logSumExp, shape.batch * shape.heads * shape.queries, 'attentionBackward: logSumExp'),
      {
        start: this.#i(window.start, queries, 'attentionBackward: window.start'),
        end: this.#i(window.end, queries, 'attentionBackward: window.end'),
      },
      shape,
    );
  }

  swigluForward(out: DeviceBuffer, gate: DeviceBuffer, up: DeviceBuffer): void {
    swigluForward(
      this.#f(out, undefined, 'swigluForward: out'),
      this.#f(gate, out.length, 'swigluForward: gate'),
      this.#f(up, out.length, 'swigluForward: up'),
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
      this.#f(dgate, size, 'swigluBackward: dgate'),
      this.#f(dup, size, 'swigluBackward: dup'),
      this.#f(dout, undefined, 'swigluBackward: dout'),
      this.#f(gate, size, 'swigluBackward: gate'),
      this.#f(up, size, 'swigluBackward: up'),
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
      this.#f(losses, rows, 'crossEntropyForward: losses'),
      this.#f(logits, rows * vocab, 'crossEntropyForward: logits'),
      this.#i(targets, rows, 'crossEntropyForward: targets'),
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
      this.#f(dlogits, size, 'crossEntropyBackward: dlogits'),
      this.#f(logits, size, 'crossEntropyBackward: logits'),
      this.#i(targets, rows, 'crossEntropyBackward: targets'),
      this.#f(weights, rows, 'crossEntropyBackward: weights'),
      scale,
      rows,
      vocab,
    );
  }

  argmax(out: DeviceBuffer, x: DeviceBuffer, rows: number, cols: number): void {
    argmax(this.#i(out, rows, 'argmax: out'), this.#f(x, rows * cols, 'argmax: x'), rows, cols);
  }

  adamw(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, step: AdamWStep): void {
    const size = param.length;
    adamw(
      this.#f(param, undefined, 'adamw: param'),
      this.#f(grad, size, 'adamw: grad'),
      this.#f(m, size, 'adamw: m'),
      this.#f(v, size, 'adamw: v'),
      step,
    );
  }

  #attentionSizes(shape: AttentionShape) {
    if (shape.heads % shape.kvHeads !== 0) {
      throw new BufferError(
        `attention: ${shape.heads} heads are not a multiple of ${shape.kvHeads} key/value heads`,
      );
    }
    return {
      queries: shape.batch * shape.queries,
      keys: shape.keys,
      qSize: shape.batch * shape.queries * shape.heads * shape.headDim,
      kvSize: shape.batch * shape.keys * shape.kvHeads * shape.headDim,
    };
  }

  #own(buffer: DeviceBuffer): ReferenceBuffer {
    if (!(buffer instanceof ReferenceBuffer))
      throw new BufferError(`a buffer from another back end was passed to ${this.name}`);
    return buffer;
  }

  /** The float elements of a buffer, checked to hold at least `size` of them. */
  #f(buffer: DeviceBuffer, size?: number, argument = 'a float argument'): FloatArray {
    const { data } = this.#own(buffer);
    if (data instanceof Int32Array)
      throw new BufferError(`${argument} is an i32 buffer where f32 was expected`);
    if (size !== undefined && data.length < size) {
      throw new BufferError(`${argument} has ${data.length} elements where ${size} are needed`);
    }
    return data;
  }

  #i(buffer: DeviceBuffer, size: number, argument = 'an index argument'): Int32Array {
    const { data } = this.#own(buffer);
    if (!(data instanceof Int32Array))
      throw new BufferError(`${argument} is an f32 buffer where i32 was expected`);
    if (data.length < size)
      throw new BufferError(`${argument} has ${data.length} elements where ${size} are needed`);
    return data;
  }
}
