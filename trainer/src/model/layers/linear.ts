import type { Backend, DeviceBuffer } from '../../engine/backend';
import type { Parameter } from '../parameters';

export interface LoraWeights {
  /** (r, in) */
  readonly a: Parameter;
  /** (out, r) */
  readonly b: Parameter;
  readonly rank: number;
  /** alpha / r */
  readonly scale: number;
  readonly dropout: number;
}

/** A projection y = x W^T + b, with W stored (out, in) as in PyTorch, and optionally a LoRA pair. */
export interface Linear {
  /** The module's Hugging Face path, e.g. model.layers.0.self_attn.q_proj */
  readonly path: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly lora: LoraWeights | null;
}

/** What one forward call keeps for backward, sized for its rows. */
export interface LinearActivations {
  /** dropout(x) A^T: (N, r); null without LoRA. */
  readonly hidden: DeviceBuffer | null;
  /** The dropout mask (N, in), entries 0 or 1 / (1 - p); null without dropout. */
  readonly mask: DeviceBuffer | null;
  /** dropout(x): (N, in); null without dropout. */
  readonly dropped: DeviceBuffer | null;
}

/** Scratch for backward, shared by every linear of the model. */
export interface LinearScratch {
  /** (N, r) */
  readonly hiddenGradient: DeviceBuffer;
  /** (N, in) */
  readonly inputGradient: DeviceBuffer;
}

// out (N, out) = x (N, in) W^T + b + scale * (dropout(x) A^T) B^T
export function linearForward(
  backend: Backend,
  layer: Linear,
  out: DeviceBuffer,
  x: DeviceBuffer,
  rows: number,
  activations: LinearActivations,
): void {
  const { inFeatures, outFeatures } = layer;
  backend.matmul(out, x, layer.weight.value, { m: rows, n: outFeatures, k: inFeatures }, { transB: true });
  if (layer.bias) backend.addRowVector(out, layer.bias.value, rows, outFeatures);
  const { lora } = layer;
  if (!lora || !activations.hidden) return;
  let input = x;
  if (activations.mask && activations.dropped) {
    backend.multiply(activations.dropped, x, activations.mask);
    input = activations.dropped;
  }
  backend.matmul(
    activations.hidden,
    input,
    lora.a.value,
    { m: rows, n: lora.rank, k: inFeatures },
    { transB: true },
  );
  backend.matmul(
    out,
    activations.hidden,
    lora.b.value,
    { m: rows, n: outFeatures, k: lora.rank },
    { transB: true, accumulate: true, alpha: lora.scale },
  );
}

// dx (N, in) += dout W [+ LoRA's path]; dW (out, in) += dout^T x; db (out) += column sums of dout;
// dB (out, r) += scale * dout^T hidden; dA (r, in) += dh^T dropout(x) with dh = scale * dout B
export function linearBackward(
  backend: Backend,
  layer: Linear,
  dx: DeviceBuffer | null,
  dout: DeviceBuffer,
  x: DeviceBuffer,
  rows: number,
  activations: LinearActivations,
  scratch: LinearScratch,
): void {
  const { inFeatures, outFeatures } = layer;
  if (layer.weight.gradient) {
    backend.matmul(
      layer.weight.gradient,
      dout,
      x,
      { m: outFeatures, n: inFeatures, k: rows },
      { transA: true, accumulate: true },
    );
  }
  if (layer.bias?.gradient) backend.sumRows(layer.bias.gradient, dout, rows, outFeatures);
  if (dx)
    backend.matmul(
      dx,
      dout,
      layer.weight.value,
      { m: rows, n: inFeatures, k: outFeatures },
      { accumulate: true },
    );
  const { lora } = layer;
  if (!lora || !activations.hidden) return;
  const input = activations.dropped ?? x;
  const dh = backend.view(scratch.hiddenGradient, 0, rows * lora.rank);
  if (lora.b.gradient) {
    backend.matmul(
      lora.b.gradient,
      dout,
      activations.hidden,
      { m: outFeatures, n: lora.rank, k: rows },
      { transA: true, accumulate: true, alpha: lora.scale },
    );
  }
  backend.matmul(dh, dout, lora.b.value, { m: rows, n: lora.rank, k: outFeatures }, { alpha: lora.scale });
  if (lora.a.gradient) {
    backend.matmul(
      lora.a.gradient,
      dh,
      input,
      { m: lora.rank, n: inFeatures, k: rows },
      { transA: true, accumulate: true },
    );
  }
  if (!dx) return;
  if (activations.mask) {
    const dropped = backend.view(scratch.inputGradient, 0, rows * inFeatures);
    backend.matmul(dropped, dh, lora.a.value, { m: rows, n: inFeatures, k: lora.rank });
    backend.multiply(dx, dropped, activations.mask, true);
  } else {
    backend.matmul(dx, dh, lora.a.value, { m: rows, n: inFeatures, k: lora.rank }, { accumulate: true });
  }
}
