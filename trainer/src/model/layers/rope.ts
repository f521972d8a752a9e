import type { ModelConfig } from '../config';

/**
 * The rotary frequencies of one head, as transformers computes them: inv_freq[i] = theta^(-2i/HD),
 * with Llama 3's band-wise rescaling or linear position scaling applied when configured.
 */
export function inverseFrequencies(config: ModelConfig): Float64Array {
  const half = config.headDim / 2;
  const frequencies = new Float64Array(half);
  for (let i = 0; i < half; i++) frequencies[i] = 1 / config.ropeTheta ** ((2 * i) / config.headDim);
  const scaling = config.ropeScaling;
  if (!scaling) return frequencies;
  if (scaling.type === 'linear') return frequencies.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: context } = scaling;
  const lowFrequencyWavelength = context / lowFreqFactor;
  const highFrequencyWavelength = context / highFreqFactor;
  return frequencies.map((f) => {
    const wavelength = (2 * Math.PI) / f;
    if (wavelength < highFrequencyWavelength) return f;
    if (wavelength > lowFrequencyWavelength) return f / factor;
    const smooth = (context / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** cos and sin tables (P, HD/2) for positions 0..P-1. */
export function ropeTables(config: ModelConfig, positions: number): { cos: Float32Array; sin: Float32Array } {
  const frequencies = inverseFrequencies(config);
  const half = frequencies.length;
  const cos = new Float32Array(positions * half);
  const sin = new Float32Array(positions * half);
  for (let p = 0; p < positions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = p * frequencies[i]!;
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}
