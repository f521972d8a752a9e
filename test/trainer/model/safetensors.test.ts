import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MalformedModelFileError } from '../../../trainer/src/model/errors';
import {
  type HostTensor,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from '../../../trainer/src/model/safetensors';
import { bits, failure } from '../../helpers/trainer/assertions';
import { writeRawSafetensors } from '../../helpers/trainer/tiny-model';

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'whetstone-safetensors-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh directory per test, so that file listings see only that test's files. */
async function freshDir(): Promise<string> {
  counter += 1;
  const dir = join(root, `case-${counter}`);
  await mkdir(dir);
  return dir;
}

function tensor(shape: number[], values: number[]): HostTensor {
  return { shape, data: Float32Array.from(values) };
}

function float32FromBits(bits: number): number {
  return new Float32Array(new Uint32Array([bits]).buffer)[0] as number;
}

function uint16Bytes(patterns: number[]): Buffer {
  return Buffer.from(Uint16Array.from(patterns).buffer);
}

/** Data section of a file the writer produced: after the 8-byte length and the header. */
async function dataSection(file: string): Promise<Buffer> {
  const bytes = await readFile(file);
  return bytes.subarray(8 + Number(bytes.readBigUInt64LE(0)));
}

describe('writeSafetensors and readSafetensors', () => {
  it('round-trip F32 tensors bit for bit, signed zeros, infinities, NaN payloads and subnormals included', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    const special = Float32Array.from([0, -0, Infinity, -Infinity, 1e-45, -3.4028234663852886e38]);
    const nanBits = new Float32Array(new Uint32Array([0x7fc00001, 0xffa00000]).buffer);
    const tensors = new Map<string, HostTensor>([
      ['z.special', { shape: [2, 3], data: special }],
      ['a.nan', { shape: [2], data: nanBits }],
      ['m.scalar', tensor([], [0.1])],
      ['e.empty', tensor([0, 4], [])],
    ]);

    // Act
    await writeSafetensors(file, tensors, { metadata: { format: 'pt' } });
    const read = await readSafetensors(file);
    const header = await readSafetensorsHeader(file);

    // Assess
    expect([...read.keys()].sort()).toEqual(['a.nan', 'e.empty', 'm.scalar', 'z.special']);
    for (const [name, original] of tensors) {
      expect(read.get(name)?.shape).toEqual(original.shape);
      expect(bits(read.get(name)?.data as Float32Array)).toEqual(bits(original.data));
    }
    expect(header.metadata).toEqual({ format: 'pt' });
  });

  it('lays the file out as the reference implementation does: sorted names, space padding to 8 bytes', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    const tensors = new Map([
      ['b.weight', tensor([2], [1, 2])],
      ['a', tensor([1], [3])],
    ]);
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"b.weight":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    const expected = Buffer.concat([
      Buffer.from([152, 0, 0, 0, 0, 0, 0, 0]),
      Buffer.from(json.padEnd(152, ' ')),
      Buffer.from(Float32Array.from([3, 1, 2]).buffer),
    ]);

    // Act
    await writeSafetensors(file, tensors, { metadata: { format: 'pt' } });

    // Assess
    expect(json.length).toBe(146);
    expect(await readFile(file)).toEqual(expected);
  });

  it('reports each tensor at its absolute byte range in the header', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeSafetensors(file, new Map([['w', tensor([2, 2], [1, 2, 3, 4])]]));

    // Act
    const header = await readSafetensorsHeader(file);

    // Assess
    expect(header.metadata).toEqual({});
    expect(header.tensors).toEqual(new Map([['w', { dtype: 'F32', shape: [2, 2], begin: 72, end: 88 }]]));
  });

  it('reads only the tensors named', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeSafetensors(
      file,
      new Map([
        ['a', tensor([1], [1])],
        ['b', tensor([2], [2, 3])],
        ['c', tensor([1], [4])],
      ]),
    );

    // Act
    const read = await readSafetensors(file, { names: new Set(['c', 'b']) });

    // Assess
    expect(read).toEqual(
      new Map([
        ['b', tensor([2], [2, 3])],
        ['c', tensor([1], [4])],
      ]),
    );
  });

  it('says which named tensor is not in the file', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeSafetensors(file, new Map([['a', tensor([1], [1])]]));

    // Act
    const error = await failure(
      readSafetensors(file, { names: new Set(['a', 'model.norm.weight']) }),
      MalformedModelFileError,
    );

    // Assess
    expect(error.message).toBe('model.safetensors: tensor "model.norm.weight" is missing');
    expect(error.field).toBe('model.norm.weight');
  });

  it('writes F16 rounding to nearest even, with overflow to infinity and NaN kept', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    const cases: [number, number][] = [
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff],
      [65519, 0x7bff],
      [65520, 0x7c00],
      [float32FromBits(0x3eaaaaab), 0x3555],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000],
      [float32FromBits(0x33000001), 0x0001],
      [3 * 2 ** -25, 0x0002],
      [1023.5 * 2 ** -24, 0x0400],
      [1e-10, 0x0000],
      [-0, 0x8000],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [Number.NaN, 0x7e00],
    ];

    // Act
    await writeSafetensors(
      file,
      new Map([
        [
          'h',
          tensor(
            [cases.length],
            cases.map(([value]) => value),
          ),
        ],
      ]),
      { dtype: 'F16' },
    );

    // Assess
    const data = await dataSection(file);
    expect([...new Uint16Array(data.buffer, data.byteOffset, cases.length)]).toEqual(
      cases.map(([, half]) => half),
    );
    expect((await readSafetensorsHeader(file)).tensors.get('h')?.dtype).toBe('F16');
  });

  it('writes BF16 rounding to nearest even, with signalling NaN kept a NaN', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    // fp32 bit patterns, so that a signalling NaN reaches the writer as it is.
    const cases: [number, number][] = [
      [0x3f800000, 0x3f80],
      [0xc0400000, 0xc040],
      [0x3f808000, 0x3f80],
      [0x3f818000, 0x3f82],
      [0x7f7fffff, 0x7f80],
      [0x80000000, 0x8000],
      [0x7fc00000, 0x7fc0],
      [0x7f800001, 0x7fc0],
      [0xff800001, 0xffc0],
    ];
    const data = new Float32Array(Uint32Array.from(cases.map(([bits]) => bits)).buffer);

    // Act
    await writeSafetensors(file, new Map([['b', { shape: [cases.length], data }]]), { dtype: 'BF16' });

    // Assess
    const bytes = await dataSection(file);
    expect([...new Uint16Array(bytes.buffer, bytes.byteOffset, cases.length)]).toEqual(
      cases.map(([, bf]) => bf),
    );
  });

  it('leaves no temporary file behind, and the previous file intact, when a write fails midway', async () => {
    // Prepare
    const dir = await freshDir();
    const file = join(dir, 'model.safetensors');
    await writeSafetensors(file, new Map([['old', tensor([1], [7])]]));
    const before = await readFile(file);
    let lookups = 0;
    const failing = new (class extends Map<string, HostTensor> {
      override get(name: string): HostTensor | undefined {
        lookups += 1;
        if (lookups > 2) throw new Error('the source went away');
        return super.get(name);
      }
    })([
      ['a', tensor([1], [1])],
      ['b', tensor([1], [2])],
    ]);

    // Act
    const error = await writeSafetensors(file, failing).catch((caught: unknown) => caught);

    // Assess
    expect((error as Error).message).toBe('the source went away');
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    expect(await readFile(file)).toEqual(before);
  });

  it('refuses a tensor whose values do not fill its shape', async () => {
    // Prepare
    const dir = await freshDir();

    // Act
    const error = await writeSafetensors(
      join(dir, 'model.safetensors'),
      new Map([['w', tensor([2, 2], [1, 2, 3])]]),
    ).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('model.safetensors: tensor "w" has shape [2, 2] but 3 values');
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('reading F16 and BF16', () => {
  it('upcasts F16 exactly: normals, subnormals, signed zeros, infinities and NaN', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    const patterns = [
      0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xc000, 0x3555, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0xfe01,
    ];
    await writeRawSafetensors(
      file,
      { h: { dtype: 'F16', shape: [patterns.length], data_offsets: [0, patterns.length * 2] } },
      uint16Bytes(patterns),
    );

    // Act
    const data = (await readSafetensors(file)).get('h')?.data as Float32Array;

    // Assess
    expect(Object.is(data[0], 0)).toBe(true);
    expect(Object.is(data[1], -0)).toBe(true);
    expect([...data.subarray(2, 11)]).toEqual([
      2 ** -24,
      1023 * 2 ** -24,
      2 ** -14,
      1,
      -2,
      0.333251953125,
      65504,
      Infinity,
      -Infinity,
    ]);
    expect([...bits(data.subarray(11))]).toEqual([0x7fc00000, 0xffc02000]);
  });

  it('upcasts BF16 exactly: the high half of the fp32 bits', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    const patterns = [0x3f80, 0xc040, 0x8000, 0x0001, 0x7f7f, 0x7f80, 0xff80, 0x7fc1];
    await writeRawSafetensors(
      file,
      { b: { dtype: 'BF16', shape: [2, 4], data_offsets: [0, 16] } },
      uint16Bytes(patterns),
    );

    // Act
    const read = (await readSafetensors(file)).get('b') as HostTensor;

    // Assess
    expect(read.shape).toEqual([2, 4]);
    expect([...read.data.subarray(0, 7)]).toEqual([
      1,
      -3,
      -0,
      2 ** -133,
      3.3895313892515355e38,
      Infinity,
      -Infinity,
    ]);
    expect(Object.is(read.data[2], -0)).toBe(true);
    expect([...bits(read.data)]).toEqual(patterns.map((pattern) => pattern * 65536));
  });

  it('reads back what it wrote as F16 and BF16 unchanged where the values are representable', async () => {
    // Prepare
    const dir = await freshDir();
    const values = [0.5, -1.25, 3, 2 ** -20, -(2 ** -24), 1024];

    // Act
    await writeSafetensors(join(dir, 'h.safetensors'), new Map([['x', tensor([6], values)]]), {
      dtype: 'F16',
    });
    await writeSafetensors(join(dir, 'b.safetensors'), new Map([['x', tensor([6], values)]]), {
      dtype: 'BF16',
    });

    // Assess
    expect([...((await readSafetensors(join(dir, 'h.safetensors'))).get('x')?.data ?? [])]).toEqual(values);
    expect([...((await readSafetensors(join(dir, 'b.safetensors'))).get('x')?.data ?? [])]).toEqual(values);
  });
});

describe('tensors converted in several steps', () => {
  it('round-trips F16 and BF16 tensors larger than one conversion step (2^22 values)', async () => {
    // Prepare
    const dir = await freshDir();
    const count = 2 ** 22 + 5;
    // Every finite non-negative F16 bit pattern in turn.
    const halves = new Uint16Array(count).map((_, i) => i % 0x7c00);
    await writeRawSafetensors(
      join(dir, 'h.safetensors'),
      { x: { dtype: 'F16', shape: [count], data_offsets: [0, count * 2] } },
      Buffer.from(halves.buffer),
    );

    // Act
    const decoded = (await readSafetensors(join(dir, 'h.safetensors'))).get('x') as HostTensor;
    await writeSafetensors(join(dir, 'again.safetensors'), new Map([['x', decoded]]), { dtype: 'F16' });
    await writeSafetensors(join(dir, 'b.safetensors'), new Map([['x', decoded]]), { dtype: 'BF16' });
    const viaBfloat = (await readSafetensors(join(dir, 'b.safetensors'))).get('x') as HostTensor;

    // Assess
    expect(decoded.data[0x3c00]).toBe(1);
    expect(decoded.data[count - 1]).toBe(decoded.data[(count - 1) % 0x7c00]);
    expect((await dataSection(join(dir, 'again.safetensors'))).equals(Buffer.from(halves.buffer))).toBe(true);
    for (let i = 0; i < count; i += 997) {
      const value = decoded.data[i] as number;
      expect(Math.abs((viaBfloat.data[i] as number) - value)).toBeLessThanOrEqual(value * 2 ** -8);
    }
  });
});

describe('malformed safetensors files', () => {
  it('says the file is truncated, naming the first tensor cut off', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeSafetensors(
      file,
      new Map([
        ['a', tensor([2], [1, 2])],
        ['b', tensor([2], [3, 4])],
      ]),
    );
    const { size } = await stat(file);
    await truncate(file, size - 4);

    // Act
    const error = await failure(readSafetensors(file), MalformedModelFileError);

    // Assess
    expect(error.message).toBe(
      'model.safetensors: file is truncated: tensor "b" ends at byte 16 of the data section, which holds 12 bytes',
    );
    expect(error.field).toBe('b');
  });

  it('says the file is truncated when it is shorter than the header length', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeFile(file, Buffer.from([1, 2, 3]));

    // Act
    const error = await failure(readSafetensorsHeader(file), MalformedModelFileError);

    // Assess
    expect(error.message).toBe(
      'model.safetensors: file is truncated: it holds 3 bytes, fewer than the 8 of the header length',
    );
  });

  it('says the file is truncated when it ends inside the header', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeRawSafetensors(file, '{"a":', undefined, 64);

    // Act
    const error = await failure(readSafetensors(file), MalformedModelFileError);

    // Assess
    expect(error.message).toBe(
      'model.safetensors: file is truncated: the header needs 64 bytes after its length, and the file holds 5',
    );
  });

  it('refuses a header length beyond the format limit', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeRawSafetensors(file, '{}', undefined, 2 ** 40);

    // Act
    const error = await failure(readSafetensors(file), MalformedModelFileError);

    // Assess
    expect(error.message).toBe(
      "model.safetensors: header length 1099511627776 exceeds the format's limit of 100000000 bytes; this is not a safetensors file",
    );
  });

  it('refuses a header that is not a JSON object', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeRawSafetensors(file, 'not json');

    // Act
    const error = await failure(readSafetensors(file), MalformedModelFileError);

    // Assess
    expect(error.message).toBe('model.safetensors: header is not a JSON object: it starts with "not json"');
  });

  it('refuses a dtype other than F32, F16 and BF16, naming the tensor', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeRawSafetensors(
      file,
      {
        step: { dtype: 'I64', shape: [1], data_offsets: [0, 8] },
        w: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
      },
      Buffer.concat([Buffer.alloc(8), Buffer.from(Float32Array.of(5).buffer)]),
    );

    // Act
    const error = await failure(readSafetensors(file), MalformedModelFileError);
    const others = await readSafetensors(file, { names: new Set(['w']) });

    // Assess
    expect(error.message).toBe('model.safetensors: tensor "step" has dtype I64; supported: F32, F16, BF16');
    expect(error.field).toBe('step');
    expect(others).toEqual(new Map([['w', tensor([1], [5])]]));
  });

  it('refuses data_offsets that do not match the size of the shape and dtype', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeRawSafetensors(
      file,
      { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } },
      Buffer.alloc(16),
    );

    // Act
    const error = await failure(readSafetensorsHeader(file), MalformedModelFileError);

    // Assess
    expect(error.message).toBe(
      'model.safetensors: tensor "w" has data_offsets [0, 12] (12 bytes), but F32 [2, 2] needs 16 bytes',
    );
    expect(error.field).toBe('w');
  });

  it('refuses a header entry with a negative dimension', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeRawSafetensors(file, { w: { dtype: 'F32', shape: [-1], data_offsets: [0, 0] } });

    // Act
    const error = await failure(readSafetensorsHeader(file), MalformedModelFileError);

    // Assess
    expect(error.message).toBe(
      'model.safetensors: tensor "w" has an invalid header entry: "shape" must be a list of non-negative integers',
    );
  });

  it('refuses data_offsets that end before they begin', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeRawSafetensors(
      file,
      { w: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } },
      Buffer.alloc(8),
    );

    // Act
    const error = await failure(readSafetensorsHeader(file), MalformedModelFileError);

    // Assess
    expect(error.message).toBe(
      'model.safetensors: tensor "w" has an invalid header entry: "data_offsets" [8, 4] ends before it begins',
    );
  });

  it('refuses metadata values that are not strings', async () => {
    // Prepare
    const file = join(await freshDir(), 'model.safetensors');
    await writeRawSafetensors(file, { __metadata__: { step: 3 } });

    // Act
    const error = await failure(readSafetensorsHeader(file), MalformedModelFileError);

    // Assess
    expect(error.message).toBe('model.safetensors: "__metadata__" must map names to strings');
  });

  it('says the file does not exist, naming its directory', async () => {
    // Prepare
    const dir = await freshDir();

    // Act
    const error = await failure(
      readSafetensors(join(dir, 'model-00001-of-00002.safetensors')),
      MalformedModelFileError,
    );

    // Assess
    expect(error.message).toBe(`model-00001-of-00002.safetensors: not found in ${dir}`);
    expect(error.file).toBe(join(dir, 'model-00001-of-00002.safetensors'));
  });
});
