import type {
  AdamWStep,
  AttentionShape,
  AttentionWindow,
  DeviceBuffer,
  MatmulOptions,
  MatmulShape,
} from '../backend';
import { BufferError } from '../errors';
import { attentionSizes, clipFactor, ReferenceBackend } from '../reference';
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

  override addRowVector(out: DeviceBuffer, vector: DeviceBuffer, rows: number, cols: number): void {
    this.#addon.addRowVector(
      this.#floats(out, rows * cols, 'addRowVector: out'),
      this.#floats(vector, cols, 'addRowVector: vector'),
      rows,
      cols,
    );
  }

  override sumRows(sums: DeviceBuffer, x: DeviceBuffer, rows: number, cols: number): void {
    this.#addon.sumRows(
      this.#floats(sums, cols, 'sumRows: sums'),
      this.#floats(x, rows * cols, 'sumRows: x'),
      rows,
      cols,
    );
  }

  override add(out: DeviceBuffer, a: DeviceBuffer, b: DeviceBuffer): void {
    this.#addon.add(
      this.#floats(out, 0, 'add: out'),
      this.#floats(a, out.length, 'add: a'),
      this.#floats(b, out.length, 'add: b'),
    );
  }

  override multiply(out: DeviceBuffer, a: DeviceBuffer, b: DeviceBuffer, accumulate = false): void {
    this.#addon.multiply(
      this.#floats(out, 0, 'multiply: out'),
      this.#floats(a, out.length, 'multiply: a'),
      this.#floats(b, out.length, 'multiply: b'),
      accumulate,
    );
  }

  override axpy(y: DeviceBuffer, x: DeviceBuffer, alpha: number): void {
    this.#addon.axpy(this.#floats(y, 0, 'axpy: y'), this.#floats(x, y.length, 'axpy: x'), alpha);
  }

  override scale(x: DeviceBuffer, factor: number): void {
    this.#addon.scale(this.#floats(x, 0, 'scale: x'), factor);
  }

  override clipToNorm(x: DeviceBuffer, sumOfSquares: DeviceBuffer, maxNorm: number): void {
    const elements = this.#floats(x, 0, 'clipToNorm: x');
    const factor = clipFactor(this.#floats(sumOfSquares, 1, 'clipToNorm: sumOfSquares')[0]!, maxNorm);
    if (factor < 1) this.#addon.scale(elements, factor);
  }

  override sumOfSquares(out: DeviceBuffer, x: DeviceBuffer): void {
    this.#addon.sumOfSquares(
      this.#floats(out, 1, 'sumOfSquares: out'),
      this.#floats(x, 0, 'sumOfSquares: x'),
    );
  }

  override dropoutMask(mask: DeviceBuffer, probability: number, seed: number): void {
    if (!(probability >= 0 && probability < 1)) {
      throw new BufferError(`dropout probability must be in [0, 1), got ${probability}`);
    }
    this.#addon.dropoutMask(this.#floats(mask, 0, 'dropoutMask: mask'), probability, seed >>> 0);
  }

  override embeddingForward(
    out: DeviceBuffer,
    table: DeviceBuffer,
    tokens: DeviceBuffer,
    count: number,
    channels: number,
  ): void {
    const ids = this.indices(tokens, count, 'embeddingForward: tokens');
    const bad = this.#addon.embeddingForward(
      this.#floats(out, count * channels, 'embeddingForward: out'),
      this.#floats(table, 0, 'embeddingForward: table'),
      ids,
      count,
      channels,
    );
    this.#checkIndex(
      'embeddingForward',
      bad,
      ids,
      'tokens',
      `the ${table.length / channels} rows of the table`,
    );
  }

  override embeddingBackward(
    dtable: DeviceBuffer,
    dout: DeviceBuffer,
    tokens: DeviceBuffer,
    count: number,
    channels: number,
  ): void {
    const ids = this.indices(tokens, count, 'embeddingBackward: tokens');
    const bad = this.#addon.embeddingBackward(
      this.#floats(dtable, 0, 'embeddingBackward: dtable'),
      this.#floats(dout, count * channels, 'embeddingBackward: dout'),
      ids,
      count,
      channels,
    );
    this.#checkIndex(
      'embeddingBackward',
      bad,
      ids,
      'tokens',
      `the ${dtable.length / channels} rows of the table`,
    );
  }

  override rmsNormForward(
    out: DeviceBuffer,
    rstd: DeviceBuffer,
    x: DeviceBuffer,
    weight: DeviceBuffer,
    rows: number,
    cols: number,
    epsilon: number,
  ): void {
    const size = rows * cols;
    this.#addon.rmsNormForward(
      this.#floats(out, size, 'rmsNormForward: out'),
      this.#floats(rstd, rows, 'rmsNormForward: rstd'),
      this.#floats(x, size, 'rmsNormForward: x'),
      this.#floats(weight, cols, 'rmsNormForward: weight'),
      rows,
      cols,
      epsilon,
    );
  }

  override rmsNormBackward(
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
    this.#addon.rmsNormBackward(
      this.#floats(dx, size, 'rmsNormBackward: dx'),
      dweight ? this.#floats(dweight, cols, 'rmsNormBackward: dweight') : null,
      this.#floats(dout, size, 'rmsNormBackward: dout'),
      this.#floats(x, size, 'rmsNormBackward: x'),
      this.#floats(weight, cols, 'rmsNormBackward: weight'),
      this.#floats(rstd, rows, 'rmsNormBackward: rstd'),
      rows,
      cols,
    );
  }

  override ropeForward(
    x: DeviceBuffer,
    positions: DeviceBuffer,
    cos: DeviceBuffer,
    sin: DeviceBuffer,
    count: number,
    heads: number,
    headDim: number,
  ): void {
    this.#rope('ropeForward', x, positions, cos, sin, count, heads, headDim, false);
  }

  override ropeBackward(
    dx: DeviceBuffer,
    positions: DeviceBuffer,
    cos: DeviceBuffer,
    sin: DeviceBuffer,
    count: number,
    heads: number,
    headDim: number,
  ): void {
    this.#rope('ropeBackward', dx, positions, cos, sin, count, heads, headDim, true);
  }

  override attentionForward(
    out: DeviceBuffer,
    logSumExp: DeviceBuffer,
    q: DeviceBuffer,
    k: DeviceBuffer,
    v: DeviceBuffer,
    window: AttentionWindow,
    shape: AttentionShape,
  ): void {
    const { rows, qSize, kvSize } = attentionSizes(shape);
    this.#addon.attentionForward(
      this.#floats(out, qSize, 'attentionForward: out'),
      this.#floats(logSumExp, rows * shape.heads, 'attentionForward: logSumExp'),
      this.#floats(q, qSize, 'attentionForward: q'),
      this.#floats(k, kvSize, 'attentionForward: k'),
      this.#floats(v, kvSize, 'attentionForward: v'),
      this.indices(window.start, rows, 'attentionForward: window.start'),
      this.indices(window.end, rows, 'attentionForward: window.end'),
      shape.batch,
      shape.queries,
      shape.keys,
      shape.heads,
      shape.kvHeads,
      shape.headDim,
    );
  }

  override attentionBackward(
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
    this.#addon.attentionBackward(
      this.#floats(dq, qSize, 'attentionBackward: dq'),
      this.#floats(dk, kvSize, 'attentionBackward: dk'),
      this.#floats(dv, kvSize, 'attentionBackward: dv'),
      this.#floats(dout, qSize, 'attentionBackward: dout'),
      this.#floats(q, qSize, 'attentionBackward: q'),
      this.#floats(k, kvSize, 'attentionBackward: k'),
      this.#floats(v, kvSize, 'attentionBackward: v'),
      this.#floats(out, qSize, 'attentionBackward: out'),
      this.#floats(logSumExp, rows * shape.heads, 'attentionBackward: logSumExp'),
      this.indices(window.start, rows, 'attentionBackward: window.start'),
      this.indices(window.end, rows, 'attentionBackward: window.end'),
      shape.batch,
      shape.queries,
      shape.keys,
      shape.heads,
      shape.kvHeads,
      shape.headDim,
    );
  }

  override swigluForward(out: DeviceBuffer, gate: DeviceBuffer, up: DeviceBuffer): void {
    this.#addon.swigluForward(
      this.#floats(out, 0, 'swigluForward: out'),
      this.#floats(gate, out.length, 'swigluForward: gate'),
      this.#floats(up, out.length, 'swigluForward: up'),
    );
  }

  override swigluBackward(
    dgate: DeviceBuffer,
    dup: DeviceBuffer,
    dout: DeviceBuffer,
    gate: DeviceBuffer,
    up: DeviceBuffer,
  ): void {
    const size = dout.length;
    this.#addon.swigluBackward(
      this.#floats(dgate, size, 'swigluBackward: dgate'),
      this.#floats(dup, size, 'swigluBackward: dup'),
      this.#floats(dout, 0, 'swigluBackward: dout'),
      this.#floats(gate, size, 'swigluBackward: gate'),
      this.#floats(up, size, 'swigluBackward: up'),
    );
  }

  override crossEntropyForward(
    losses: DeviceBuffer,
    logits: DeviceBuffer,
    targets: DeviceBuffer,
    rows: number,
    vocab: number,
  ): void {
    const ids = this.indices(targets, rows, 'crossEntropyForward: targets');
    const bad = this.#addon.crossEntropyForward(
      this.#floats(losses, rows, 'crossEntropyForward: losses'),
      this.#floats(logits, rows * vocab, 'crossEntropyForward: logits'),
      ids,
      rows,
      vocab,
    );
    this.#checkIndex('crossEntropyForward', bad, ids, 'targets', `the vocabulary of ${vocab}`);
  }

  override crossEntropyBackward(
    dlogits: DeviceBuffer,
    logits: DeviceBuffer,
    targets: DeviceBuffer,
    weights: DeviceBuffer,
    scale: number,
    rows: number,
    vocab: number,
  ): void {
    const size = rows * vocab;
    const ids = this.indices(targets, rows, 'crossEntropyBackward: targets');
    const bad = this.#addon.crossEntropyBackward(
      this.#floats(dlogits, size, 'crossEntropyBackward: dlogits'),
      this.#floats(logits, size, 'crossEntropyBackward: logits'),
      ids,
      this.#floats(weights, rows, 'crossEntropyBackward: weights'),
      scale,
      rows,
      vocab,
    );
    this.#checkIndex('crossEntropyBackward', bad, ids, 'targets', `the vocabulary of ${vocab}`);
  }

  override argmax(out: DeviceBuffer, x: DeviceBuffer, rows: number, cols: number): void {
    this.#addon.argmax(
      this.indices(out, rows, 'argmax: out'),
      this.#floats(x, rows * cols, 'argmax: x'),
      rows,
      cols,
    );
  }

  override adamw(
    param: DeviceBuffer,
    grad: DeviceBuffer,
    m: DeviceBuffer,
    v: DeviceBuffer,
    step: AdamWStep,
  ): void {
    const size = param.length;
    this.#addon.adamw(
      this.#floats(param, 0, 'adamw: param'),
      this.#floats(grad, size, 'adamw: grad'),
      this.#floats(m, size, 'adamw: m'),
      this.#floats(v, size, 'adamw: v'),
      step.learningRate,
      step.beta1,
      step.beta2,
      step.epsilon,
      step.weightDecay,
      step.step,
    );
  }

  #rope(
    kernel: string,
    x: DeviceBuffer,
    positions: DeviceBuffer,
    cos: DeviceBuffer,
    sin: DeviceBuffer,
    count: number,
    heads: number,
    headDim: number,
    inverse: boolean,
  ): void {
    if (headDim % 2 !== 0) {
      throw new BufferError(
        `${kernel}: head dimension ${headDim} is odd; rotate-half pairs need an even one`,
      );
    }
    const ids = this.indices(positions, count, `${kernel}: positions`);
    const bad = this.#addon.rope(
      this.#floats(x, count * heads * headDim, `${kernel}: ${inverse ? 'dx' : 'x'}`),
      ids,
      this.#floats(cos, 0, `${kernel}: cos`),
      this.#floats(sin, 0, `${kernel}: sin`),
      count,
      heads,
      headDim,
      inverse,
    );
    const tableRows = Math.floor(Math.min(cos.length, sin.length) / (headDim / 2));
    this.#checkIndex(kernel, bad, ids, 'positions', `the ${tableRows} rows of the cos and sin tables`);
  }

  /** Turns a kernel's first out-of-range index (-1 when none) into the error the caller sees. */
  #checkIndex(kernel: string, bad: number, indices: Int32Array, argument: string, range: string): void {
    if (bad >= 0)
      throw new BufferError(`${kernel}: ${argument}[${bad}] is ${indices[bad]}, outside ${range}`);
  }

  /** Constructed as `f32`, every float buffer of this back end is a Float32Array. */
  #floats(buffer: DeviceBuffer, size: number, argument: string): Float32Array {
    return this.floats(buffer, size, argument) as Float32Array;
  }
}
