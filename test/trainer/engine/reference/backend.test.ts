import { describe, expect, it } from 'vitest';
import type { DeviceBuffer } from '../../../../trainer/src/engine/backend';
import { BufferError, EngineError } from '../../../../trainer/src/engine/errors';
import { ReferenceBackend } from '../../../../trainer/src/engine/reference';
import { bufferFrom } from '../../../helpers/trainer/gradient-check';

describe('reference back end buffers', () => {
  it('names itself by precision and allocates zeroed buffers of that precision', () => {
    // Prepare
    const f32 = new ReferenceBackend();
    const f64 = new ReferenceBackend('f64');

    // Act
    const single = f32.allocate('f32', 3);
    const double = f64.allocate('f32', 3);
    const indices = f64.allocate('i32', 2);

    // Assess
    expect([f32.name, f64.name]).toEqual(['reference', 'reference-f64']);
    expect(f32.elements(single)).toEqual(new Float32Array(3));
    expect(f64.elements(double)).toEqual(new Float64Array(3));
    expect(f64.elements(indices)).toEqual(new Int32Array(2));
    expect([single.dtype, single.length, indices.dtype, indices.length]).toEqual(['f32', 3, 'i32', 2]);
  });

  it('shares memory between a view and its buffer', () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const buffer = bufferFrom(backend, [0, 1, 2, 3, 4]);

    // Act
    const view = backend.view(buffer, 1, 3);
    backend.fill(view, 9);
    backend.write(buffer, [7], 2);

    // Assess
    expect(Array.from(backend.elements(buffer))).toEqual([0, 9, 7, 9, 4]);
    expect(Array.from(backend.elements(view))).toEqual([9, 7, 9]);
    expect(view.length).toBe(3);
  });

  it('reads a copy of a buffer', async () => {
    // Prepare
    const backend = new ReferenceBackend();
    const floats = bufferFrom(backend, [0.1, 2]);
    const indices = bufferFrom(backend, [3, -4], 'i32');

    // Act
    const readFloats = await backend.read(floats);
    const readIndices = await backend.read(indices);
    readFloats[1] = 5;

    // Assess
    expect(readFloats).toEqual(Float32Array.from([0.1, 5]));
    expect(readIndices).toEqual(Int32Array.from([3, -4]));
    expect(Array.from(backend.elements(floats))).toEqual([Math.fround(0.1), 2]);
  });

  it('refuses a view that reaches past its buffer', () => {
    // Prepare
    const backend = new ReferenceBackend();
    const buffer = backend.allocate('f32', 5);

    // Act
    const views = [() => backend.view(buffer, 2, 4), () => backend.view(buffer, -1, 2)];

    // Assess
    expect(views[0]).toThrow(new BufferError('view [2, 6) is outside a buffer of 5 elements'));
    expect(views[1]).toThrow(new BufferError('view [-1, 1) is outside a buffer of 5 elements'));
    expect(views[0]).toThrow(EngineError);
  });

  it('refuses an i32 buffer where a kernel reads floats, and a float buffer where it reads indices', () => {
    // Prepare
    const backend = new ReferenceBackend();
    const floats = backend.allocate('f32', 4);
    const indices = backend.allocate('i32', 4);

    // Act
    const matmul = () => backend.matmul(floats, indices, floats, { m: 2, n: 2, k: 1 });
    const embedding = () => backend.embeddingForward(floats, floats, floats, 2, 2);
    const argmax = () => backend.argmax(floats, floats, 2, 2);

    // Assess
    expect(matmul).toThrow(new BufferError('matmul: a is an i32 buffer where f32 was expected'));
    expect(embedding).toThrow(
      new BufferError('embeddingForward: tokens is an f32 buffer where i32 was expected'),
    );
    expect(argmax).toThrow(new BufferError('argmax: out is an f32 buffer where i32 was expected'));
  });

  it('refuses a buffer that is not its own', async () => {
    // Prepare
    const backend = new ReferenceBackend('f64');
    const foreign: DeviceBuffer = { dtype: 'f32', length: 3 };
    const own = backend.allocate('f32', 3);

    // Act
    const attempts = [
      () => backend.fill(foreign, 0),
      () => backend.add(own, own, foreign),
      () => backend.view(foreign, 0, 1),
    ];
    const read = backend.read(foreign);

    // Assess
    const error = new BufferError('a buffer from another back end was passed to reference-f64');
    for (const attempt of attempts) expect(attempt).toThrow(error);
    await expect(read).rejects.toThrow(error);
  });

  it('refuses buffers too short for the shape a kernel is given', () => {
    // Prepare
    const backend = new ReferenceBackend();
    const short = backend.allocate('f32', 5);
    const enough = backend.allocate('f32', 6);

    // Act
    const matmul = () => backend.matmul(short, enough, enough, { m: 2, n: 3, k: 3 });
    const losses = () => backend.crossEntropyForward(enough, enough, backend.allocate('i32', 2), 3, 2);

    // Assess
    expect(matmul).toThrow(new BufferError('matmul: out has 5 elements where 6 are needed'));
    expect(losses).toThrow(new BufferError('crossEntropyForward: targets has 2 elements where 3 are needed'));
  });

  it('refuses a write that overruns, a copy between sizes, a bad allocation and a bad head grouping', () => {
    // Prepare
    const backend = new ReferenceBackend();
    const buffer = backend.allocate('f32', 3);
    const small = backend.allocate('f32', 2);
    const shape = { batch: 1, queries: 1, keys: 1, heads: 3, kvHeads: 2, headDim: 2 };

    // Act
    const write = () => backend.write(buffer, [1, 2], 2);
    const copy = () => backend.copy(buffer, small);
    const allocate = () => backend.allocate('f32', 1.5);
    const attention = () =>
      backend.attentionForward(buffer, buffer, buffer, buffer, buffer, { start: buffer, end: buffer }, shape);

    // Assess
    expect(write).toThrow(new BufferError('writing 2 elements at 2 overruns a buffer of 3'));
    expect(copy).toThrow(new BufferError('copy of 2 elements into 3'));
    expect(allocate).toThrow(new BufferError('cannot allocate 1.5 elements'));
    expect(attention).toThrow(new BufferError('attention: 3 heads are not a multiple of 2 key/value heads'));
  });
});
