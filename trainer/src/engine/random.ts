import { EngineError } from './errors';

/**
 * A seedable generator (xoshiro128**) whose whole state is four 32-bit words, so a checkpoint can
 * save it and a resumed run draws exactly the numbers the uninterrupted run would have drawn.
 */
export class Random {
  #s: Uint32Array;

  private constructor(state: Uint32Array) {
    this.#s = state;
  }

  /** Seeds the four words with splitmix32, as xoshiro's authors recommend. */
  static fromSeed(seed: number): Random {
    let x = seed >>> 0;
    const state = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      state[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (state.every((word) => word === 0)) state[0] = 1;
    return new Random(state);
  }

  static fromState(state: readonly number[]): Random {
    if (
      state.length !== 4 ||
      state.some((word) => !Number.isInteger(word) || word < 0 || word > 0xffffffff) ||
      state.every((word) => word === 0)
    ) {
      // All zeros is xoshiro's one fixed point: it would return 0 forever.
      throw new EngineError(
        `a generator state is four unsigned 32-bit integers, not all zero, got ${JSON.stringify(state)}`,
      );
    }
    return new Random(Uint32Array.from(state));
  }

  state(): number[] {
    return Array.from(this.#s);
  }

  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1), with 53 random bits. */
  nextFloat(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.nextFloat();
  }

  /** A standard normal draw (Box-Muller; one pair of uniforms per draw, so the state alone is enough). */
  normal(): number {
    const u = 1 - this.nextFloat();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** An integer in [0, bound). */
  below(bound: number): number {
    return Math.floor(this.nextFloat() * bound);
  }

  /** Fisher-Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
