import type { AttentionShape, AttentionWindow, Backend, DeviceBuffer } from '../../engine/backend';
import type { ModelConfig } from '../config';
import type { DecoderWeights } from '../structure';
import {
  type Linear,
  type LinearActivations,
  type LinearScratch,
  linearBackward,
  linearForward,
} from './linear';

/** What one decoder layer keeps from forward for backward. N = B * T rows. */
export interface DecoderActivations {
  /** (N, C): the residual stream entering the layer. */
  readonly input: DeviceBuffer;
  /** (N, C), (N) */
  readonly norm1: DeviceBuffer;
  readonly rstd1: DeviceBuffer;
  /** (N, NH * HD), after RoPE */
  readonly q: DeviceBuffer;
  /** (N, NH * HD) */
  readonly attention: DeviceBuffer;
  /** (B, NH, T) */
  readonly logSumExp: DeviceBuffer;
  /** (N, C): input + o_proj(attention) */
  readonly mid: DeviceBuffer;
  readonly norm2: DeviceBuffer;
  readonly rstd2: DeviceBuffer;
  /** (N, I) */
  readonly gate: DeviceBuffer;
  readonly up: DeviceBuffer;
  readonly swiglu: DeviceBuffer;
  /** (N, C): mid + down_proj(swiglu), the next layer's input */
  readonly output: DeviceBuffer;
  /** LoRA state per projection, by module path. */
  readonly linears: ReadonlyMap<string, LinearActivations>;
}

/**
 * Where the layer's keys and values go and what it attends to. Training: the layer's own (N, NKV * HD)
 * buffers, S = T. Decoding: `keys`/`values` are this call's rows of the cache (B, S, NKV, HD) and
 * `allKeys`/`allValues` the whole cache.
 */
export interface KeyValues {
  readonly keys: DeviceBuffer;
  readonly values: DeviceBuffer;
  readonly allKeys: DeviceBuffer;
  readonly allValues: DeviceBuffer;
  readonly slots: number;
}

export interface Positions {
  readonly batch: number;
  readonly length: number;
  /** (N, i32) */
  readonly positions: DeviceBuffer;
  /** (P, HD/2) */
  readonly cos: DeviceBuffer;
  readonly sin: DeviceBuffer;
  readonly window: AttentionWindow;
}

/** Backward scratch shared by every layer: N rows of each width. */
export interface DecoderScratch {
  /** (N, C): d(residual), carried from layer to layer and added into in place */
  readonly residual: DeviceBuffer;
  readonly workspace: { zeroed(name: string, length: number): DeviceBuffer };
  readonly linear: LinearScratch;
}

function attentionShape(config: ModelConfig, positions: Positions, slots: number): AttentionShape {
  return {
    batch: positions.batch,
    queries: positions.length,
    keys: slots,
    heads: config.numHeads,
    kvHeads: config.numKvHeads,
    headDim: config.headDim,
  };
}

function linearState(activations: DecoderActivations, linear: Linear): LinearActivations {
  return activations.linears.get(linear.path) ?? { hidden: null, mask: null, dropped: null };
}

// input (N, C) -> output (N, C):
//   mid = input + o_proj(attention(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1))), n1 = rmsnorm(input)
//   output = mid + down_proj(silu(gate_proj(n2)) * up_proj(n2)), n2 = rmsnorm(mid)
export function decoderForward(
  backend: Backend,
  config: ModelConfig,
  layer: DecoderWeights,
  a: DecoderActivations,
  kv: KeyValues,
  positions: Positions,
  projection: DeviceBuffer,
): void {
  const N = positions.batch * positions.length;
  const { hiddenSize: C, numHeads: NH, numKvHeads: NKV, headDim: HD } = config;
  backend.rmsNormForward(a.norm1, a.rstd1, a.input, layer.inputNorm.value, N, C, config.rmsNormEps);
  linearForward(backend, layer.q, a.q, a.norm1, N, linearState(a, layer.q));
  linearForward(backend, layer.k, kv.keys, a.norm1, N, linearState(a, layer.k));
  linearForward(backend, layer.v, kv.values, a.norm1, N, linearState(a, layer.v));
  backend.ropeForward(a.q, positions.positions, positions.cos, positions.sin, N, NH, HD);
  backend.ropeForward(kv.keys, positions.positions, positions.cos, positions.sin, N, NKV, HD);
  const shape = attentionShape(config, positions, kv.slots);
  backend.attentionForward(a.attention, a.logSumExp, a.q, kv.allKeys, kv.allValues, positions.window, shape);
  linearForward(backend, layer.o, projection, a.attention, N, linearState(a, layer.o));
  backend.add(a.mid, a.input, projection);

  backend.rmsNormForward(a.norm2, a.rstd2, a.mid, layer.postAttentionNorm.value, N, C, config.rmsNormEps);
  linearForward(backend, layer.gate, a.gate, a.norm2, N, linearState(a, layer.gate));
  linearForward(backend, layer.up, a.up, a.norm2, N, linearState(a, layer.up));
  backend.swigluForward(a.swiglu, a.gate, a.up);
  linearForward(backend, layer.down, projection, a.swiglu, N, linearState(a, layer.down));
  backend.add(a.output, a.mid, projection);
}

// In reverse order of forward. On entry scratch.residual holds d(output); on exit d(input), when
// inputGradient asks for it.
// Training only: keys and values are the layer's own (S = T).
export function decoderBackward(
  backend: Backend,
  config: ModelConfig,
  layer: DecoderWeights,
  a: DecoderActivations,
  kv: KeyValues,
  positions: Positions,
  scratch: DecoderScratch,
  inputGradient = true,
): void {
  const N = positions.batch * positions.length;
  const { hiddenSize: C, intermediateSize: I, numHeads: NH, numKvHeads: NKV, headDim: HD } = config;
  const dResidual = scratch.residual;
  const zeroed = (name: string, length: number) => scratch.workspace.zeroed(name, length);

  const dSwiglu = zeroed('d.swiglu', N * I);
  linearBackward(
    backend,
    layer.down,
    dSwiglu,
    dResidual,
    a.swiglu,
    N,
    linearState(a, layer.down),
    scratch.linear,
  );
  const dGate = zeroed('d.gate', N * I);
  const dUp = zeroed('d.up', N * I);
  backend.swigluBackward(dGate, dUp, dSwiglu, a.gate, a.up);
  const dNorm2 = zeroed('d.norm', N * C);
  linearBackward(backend, layer.gate, dNorm2, dGate, a.norm2, N, linearState(a, layer.gate), scratch.linear);
  linearBackward(backend, layer.up, dNorm2, dUp, a.norm2, N, linearState(a, layer.up), scratch.linear);
  // dResidual becomes d(mid): the skip connection's gradient plus the MLP branch's.
  backend.rmsNormBackward(
    dResidual,
    layer.postAttentionNorm.gradient,
    dNorm2,
    a.mid,
    layer.postAttentionNorm.value,
    a.rstd2,
    N,
    C,
  );

  const dAttention = zeroed('d.attention', N * NH * HD);
  linearBackward(
    backend,
    layer.o,
    dAttention,
    dResidual,
    a.attention,
    N,
    linearState(a, layer.o),
    scratch.linear,
  );
  const dq = zeroed('d.q', N * NH * HD);
  const dk = zeroed('d.k', N * NKV * HD);
  const dv = zeroed('d.v', N * NKV * HD);
  const shape = attentionShape(config, positions, kv.slots);
  backend.attentionBackward(
    dq,
    dk,
    dv,
    dAttention,
    a.q,
    kv.allKeys,
    kv.allValues,
    a.attention,
    a.logSumExp,
    positions.window,
    shape,
  );
  backend.ropeBackward(dq, positions.positions, positions.cos, positions.sin, N, NH, HD);
  backend.ropeBackward(dk, positions.positions, positions.cos, positions.sin, N, NKV, HD);
  // The layer's input gradient is wanted by the layer below or the embedding; without them, the
  // q/k/v projections need no input gradient unless the input norm's weight trains.
  const dNorm1 = inputGradient || layer.inputNorm.gradient ? zeroed('d.norm', N * C) : null;
  linearBackward(backend, layer.q, dNorm1, dq, a.norm1, N, linearState(a, layer.q), scratch.linear);
  linearBackward(backend, layer.k, dNorm1, dk, a.norm1, N, linearState(a, layer.k), scratch.linear);
  linearBackward(backend, layer.v, dNorm1, dv, a.norm1, N, linearState(a, layer.v), scratch.linear);
  if (!dNorm1) return;
  backend.rmsNormBackward(
    dResidual,
    layer.inputNorm.gradient,
    dNorm1,
    a.input,
    layer.inputNorm.value,
    a.rstd1,
    N,
    C,
  );
}
