import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { MalformedModelFileError } from './errors';

/** A tensor in host memory, row-major, always fp32 whatever the file holds. */
export interface HostTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** The dtypes read (upcast to fp32) and written. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export interface SafetensorsEntry {
  readonly dtype: string;
  readonly shape: number[];
  /** Absolute byte offsets in the file, [begin, end): the header's data_offsets plus the data section's start. */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly tensors: Map<string, SafetensorsEntry>;
  readonly metadata: Record<string, string>;
}

const READABLE_DTYPES: readonly SafetensorsDtype[] = ['F32', 'F16', 'BF16'];

/** Bytes per element of the format's dtypes; sub-byte dtypes are absent and their sizes go unchecked. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  F8_E8M0: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};

/** The reference implementation refuses larger headers; a bigger length means this is not a safetensors file. */
const MAX_HEADER_BYTES = 100_000_000;
/** Linux transfers at most about 2 GiB per read or write call; larger tensors move in pieces. */
const MAX_IO_BYTES = 1 << 30;
/** Elements converted per step between fp32 and 16-bit formats, bounding the scratch memory. */
const CONVERT_ELEMENTS = 1 << 22;

// Typed arrays use the host's byte order and the format is little-endian.
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads and checks the header: its length, its JSON, and every entry's dtype, shape and byte range. */
export async function readSafetensorsHeader(file: string): Promise<SafetensorsHeader> {
  const handle = await openForReading(file);
  try {
    return await readHeader(handle, file);
  } finally {
    await handle.close();
  }
}

/**
 * Reads tensors upcast to fp32: exactly, since every F16 and BF16 value (subnormals, infinities, NaN
 * payloads and signed zeros included) is an fp32 value. With `names`, reads only those tensors' bytes;
 * each must be in the file. Any dtype other than F32, F16 and BF16 is refused.
 */
export async function readSafetensors(
  file: string,
  options: { readonly names?: ReadonlySet<string> } = {},
): Promise<Map<string, HostTensor>> {
  assertLittleEndianHost();
  const handle = await openForReading(file);
  try {
    const header = await readHeader(handle, file);
    const selected: [string, SafetensorsEntry][] = [];
    if (options.names === undefined) {
      selected.push(...header.tensors);
    } else {
      for (const name of options.names) {
        const entry = header.tensors.get(name);
        if (entry === undefined) {
          throw new MalformedModelFileError(`tensor ${JSON.stringify(name)} is missing`, {
            file,
            field: name,
          });
        }
        selected.push([name, entry]);
      }
    }
    for (const [name, entry] of selected) assertReadableDtype(file, name, entry.dtype);
    // File order, so that the reads move forward through the file.
    selected.sort(([, left], [, right]) => left.begin - right.begin);
    const tensors = new Map<string, HostTensor>();
    for (const [name, entry] of selected) {
      tensors.set(name, { shape: entry.shape, data: await readTensorData(handle, file, name, entry) });
    }
    return tensors;
  } finally {
    await handle.close();
  }
}

/**
 * Writes tensors as the reference implementation does: an 8-byte little-endian header length, a compact
 * JSON header (`__metadata__` first, then the tensors in byte-wise name order with their data in the
 * same order) padded with spaces to a multiple of 8 bytes, then the data. F32 unless `dtype` says
 * otherwise; F16 and BF16 round to nearest even, and NaN stays NaN. The file appears complete or not
 * at all: it is written beside its destination and renamed into place.
 */
export async function writeSafetensors(
  file: string,
  tensors: ReadonlyMap<string, HostTensor>,
  options: { readonly metadata?: Record<string, string>; readonly dtype?: SafetensorsDtype } = {},
): Promise<void> {
  assertLittleEndianHost();
  const dtype = options.dtype ?? 'F32';
  if (!READABLE_DTYPES.includes(dtype)) {
    throw new TypeError(
      `${basename(file)}: cannot write dtype ${JSON.stringify(dtype)}; supported: F32, F16, BF16`,
    );
  }
  const elementBytes = DTYPE_BYTES[dtype] as number;
  const names = [...tensors.keys()].sort((left, right) =>
    Buffer.compare(Buffer.from(left), Buffer.from(right)),
  );

  const header: Record<string, unknown> = {};
  if (options.metadata !== undefined) {
    for (const [key, value] of Object.entries(options.metadata)) {
      if (typeof value !== 'string') {
        throw new TypeError(`${basename(file)}: metadata ${JSON.stringify(key)} must be a string`);
      }
    }
    header.__metadata__ = options.metadata;
  }
  let offset = 0;
  for (const name of names) {
    const tensor = tensors.get(name) as HostTensor;
    if (name === '' || name === '__metadata__') {
      throw new TypeError(`${basename(file)}: ${JSON.stringify(name)} cannot name a tensor`);
    }
    const count = elementCount(tensor.shape);
    if (count === undefined || count !== tensor.data.length) {
      throw new TypeError(
        `${basename(file)}: tensor ${JSON.stringify(name)} has shape ${formatShape(tensor.shape)} but ${tensor.data.length} values`,
      );
    }
    const bytes = count * elementBytes;
    header[name] = { dtype, shape: [...tensor.shape], data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const paddedLength = Math.ceil(json.length / 8) * 8;
  const prefix = Buffer.alloc(8 + paddedLength, 0x20);
  prefix.writeBigUInt64LE(BigInt(paddedLength), 0);
  json.copy(prefix, 8);

  await writeAtomically(file, async (handle) => {
    let position = await writeFully(handle, prefix, 0);
    for (const name of names) {
      const data = (tensors.get(name) as HostTensor).data;
      if (dtype === 'F32') {
        position = await writeFully(
          handle,
          new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
          position,
        );
        continue;
      }
      const encode = dtype === 'F16' ? floatBitsToHalf : floatBitsToBfloat16;
      const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
      const scratch = new Uint16Array(Math.min(data.length, CONVERT_ELEMENTS));
      for (let start = 0; start < data.length; start += scratch.length) {
        const count = Math.min(scratch.length, data.length - start);
        for (let i = 0; i < count; i++) scratch[i] = encode(bits[start + i] as number);
        position = await writeFully(handle, new Uint8Array(scratch.buffer, 0, count * 2), position);
      }
    }
  });
}

/** Throws the loader's message for a tensor whose dtype cannot be read (anything but F32, F16, BF16). */
export function assertReadableDtype(
  file: string,
  name: string,
  dtype: string,
): asserts dtype is SafetensorsDtype {
  if (!(READABLE_DTYPES as readonly string[]).includes(dtype)) {
    throw new MalformedModelFileError(
      `tensor ${JSON.stringify(name)} has dtype ${dtype}; supported: ${READABLE_DTYPES.join(', ')}`,
      { file, field: name },
    );
  }
}

/**
 * Writes `file` through `write` into a temporary file in the same directory, flushed to disk, then
 * renames it over `file`, so that a crash leaves either the old file or the new one.
 */
export async function writeAtomically(
  file: string,
  write: (handle: FileHandle) => Promise<void>,
): Promise<void> {
  const temporary = join(
    dirname(file),
    `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const handle = await open(temporary, 'wx');
  try {
    await write(handle);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

async function openForReading(file: string): Promise<FileHandle> {
  try {
    return await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MalformedModelFileError(`not found in ${dirname(file)}`, { file, cause: error });
    }
    throw error;
  }
}

async function readHeader(handle: FileHandle, file: string): Promise<SafetensorsHeader> {
  const fileBytes = (await handle.stat()).size;
  if (fileBytes < 8) {
    throw new MalformedModelFileError(
      `file is truncated: it holds ${fileBytes} bytes, fewer than the 8 of the header length`,
      { file },
    );
  }
  const lengthBytes = Buffer.alloc(8);
  await readFully(handle, file, lengthBytes, 0);
  const declared = lengthBytes.readBigUInt64LE(0);
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    throw new MalformedModelFileError(
      `header length ${declared} exceeds the format's limit of ${MAX_HEADER_BYTES} bytes; this is not a safetensors file`,
      { file },
    );
  }
  const headerBytes = Number(declared);
  if (8 + headerBytes > fileBytes) {
    throw new MalformedModelFileError(
      `file is truncated: the header needs ${headerBytes} bytes after its length, and the file holds ${fileBytes - 8}`,
      { file },
    );
  }
  const headerBuffer = Buffer.alloc(headerBytes);
  await readFully(handle, file, headerBuffer, 8);
  const text = headerBuffer.toString('utf8');
  let json: unknown;
  try {
    if (!text.startsWith('{')) throw new SyntaxError(`it starts with ${JSON.stringify(text.slice(0, 8))}`);
    json = JSON.parse(text);
  } catch (error) {
    throw new MalformedModelFileError(`header is not a JSON object: ${(error as Error).message}`, {
      file,
      cause: error,
    });
  }
  if (!isPlainObject(json)) {
    throw new MalformedModelFileError('header is not a JSON object', { file });
  }

  const dataStart = 8 + headerBytes;
  const dataBytes = fileBytes - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(value) || Object.values(value).some((item) => typeof item !== 'string')) {
        throw new MalformedModelFileError('"__metadata__" must map names to strings', { file, field: name });
      }
      Object.assign(metadata, value);
      continue;
    }
    const [dtype, shape, begin, end] = readEntry(file, name, value);
    const elementBytes = DTYPE_BYTES[dtype];
    const count = elementCount(shape) as number;
    if (elementBytes !== undefined && end - begin !== count * elementBytes) {
      throw new MalformedModelFileError(
        `tensor ${JSON.stringify(name)} has data_offsets [${begin}, ${end}] (${end - begin} bytes), but ${dtype} ${formatShape(shape)} needs ${count * elementBytes} bytes`,
        { file, field: name },
      );
    }
    tensors.set(name, { dtype, shape, begin: dataStart + begin, end: dataStart + end });
  }
  // Checked once all entries are known, so that a cut-off file is reported by its first missing tensor.
  const byOffset = [...tensors].sort(([, left], [, right]) => left.begin - right.begin);
  for (const [name, entry] of byOffset) {
    if (entry.end > fileBytes) {
      throw new MalformedModelFileError(
        `file is truncated: tensor ${JSON.stringify(name)} ends at byte ${entry.end - dataStart} of the data section, which holds ${dataBytes} bytes`,
        { file, field: name },
      );
    }
  }
  return { tensors, metadata };
}

function readEntry(file: string, name: string, value: unknown): [string, number[], number, number] {
  const fail = (problem: string) =>
    new MalformedModelFileError(`tensor ${JSON.stringify(name)} has an invalid header entry: ${problem}`, {
      file,
      field: name,
    });
  if (!isPlainObject(value)) throw fail('it is not an object');
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string') throw fail('"dtype" must be a string');
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger) || elementCount(shape) === undefined) {
    throw fail('"shape" must be a list of non-negative integers');
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInteger)) {
    throw fail('"data_offsets" must be two non-negative integers');
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw fail(`"data_offsets" [${begin}, ${end}] ends before it begins`);
  return [dtype, [...(shape as number[])], begin, end];
}

async function readTensorData(
  handle: FileHandle,
  file: string,
  name: string,
  entry: SafetensorsEntry,
): Promise<Float32Array> {
  const count = elementCount(entry.shape) as number;
  const result = new Float32Array(count);
  if (entry.dtype === 'F32') {
    await readFully(handle, file, new Uint8Array(result.buffer), entry.begin, name);
    return result;
  }
  const resultBits = new Uint32Array(result.buffer);
  const scratch = new Uint16Array(Math.min(count, CONVERT_ELEMENTS));
  const table = entry.dtype === 'F16' ? halfToFloatTable() : undefined;
  for (let start = 0; start < count; start += scratch.length) {
    const chunk = Math.min(scratch.length, count - start);
    await readFully(
      handle,
      file,
      new Uint8Array(scratch.buffer, 0, chunk * 2),
      entry.begin + start * 2,
      name,
    );
    if (table === undefined) {
      // BF16 is the high half of the fp32 bits.
      for (let i = 0; i < chunk; i++) resultBits[start + i] = (scratch[i] as number) << 16;
    } else {
      for (let i = 0; i < chunk; i++) resultBits[start + i] = table[scratch[i] as number] as number;
    }
  }
  return result;
}

async function readFully(
  handle: FileHandle,
  file: string,
  target: Uint8Array,
  position: number,
  tensor?: string,
): Promise<void> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await handle.read(
      target,
      done,
      Math.min(target.length - done, MAX_IO_BYTES),
      position + done,
    );
    if (bytesRead === 0) {
      const what = tensor === undefined ? 'the header' : `tensor ${JSON.stringify(tensor)}`;
      throw new MalformedModelFileError(`file is truncated: it ended while reading ${what}`, {
        file,
        ...(tensor === undefined ? {} : { field: tensor }),
      });
    }
    done += bytesRead;
  }
}

async function writeFully(handle: FileHandle, source: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < source.length) {
    const { bytesWritten } = await handle.write(
      source,
      done,
      Math.min(source.length - done, MAX_IO_BYTES),
      position + done,
    );
    done += bytesWritten;
  }
  return position + done;
}

let halfTable: Uint32Array | undefined;

/** fp32 bit patterns of all 65536 F16 bit patterns, built on first use. */
function halfToFloatTable(): Uint32Array {
  if (halfTable === undefined) {
    halfTable = new Uint32Array(65536);
    for (let bits = 0; bits < 65536; bits++) halfTable[bits] = convertHalfToFloatBits(bits);
  }
  return halfTable;
}

function convertHalfToFloatBits(half: number): number {
  const sign = (half & 0x8000) << 16;
  const exponent = (half >> 10) & 0x1f;
  const mantissa = half & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent + 127 - 15) << 23) | (mantissa << 13)) >>> 0;
  if (mantissa === 0) return sign >>> 0;
  // Subnormal, mantissa * 2^-24: normalize so the leading 1 becomes fp32's implicit bit.
  let shift = 0;
  while (mantissa << shift < 0x400) shift++;
  return (sign | ((127 - 15 + 1 - shift) << 23) | (((mantissa << shift) & 0x3ff) << 13)) >>> 0;
}

/** F16 bit pattern nearest to an fp32 bit pattern, ties to even; overflow gives infinity. */
function floatBitsToHalf(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200 | (mantissa >>> 13));
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Below 2^-25 everything rounds to zero; at or above it the result is an F16 subnormal (or the
    // smallest normal, when rounding carries into the exponent).
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const dropped = 14 - halfExponent;
    const halfway = 1 << (dropped - 1);
    const remainder = significand & ((1 << dropped) - 1);
    let result = significand >>> dropped;
    if (remainder > halfway || (remainder === halfway && (result & 1) === 1)) result++;
    return sign | result;
  }
  let result = sign | (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  // A carry out of the mantissa increments the exponent, up to infinity, as rounding should.
  if (remainder > 0x1000 || (remainder === 0x1000 && (result & 1) === 1)) result++;
  return result;
}

/** BF16 bit pattern nearest to an fp32 bit pattern, ties to even; NaN stays a (quiet) NaN. */
function floatBitsToBfloat16(bits: number): number {
  if ((bits & 0x7fffffff) >>> 0 > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

function elementCount(shape: readonly number[]): number | undefined {
  let count = 1;
  for (const size of shape) count *= size;
  return Number.isSafeInteger(count) ? count : undefined;
}

function isNonNegativeInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function assertLittleEndianHost(): void {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error('safetensors files are little-endian; this host is big-endian');
}
