import { TokenizerError } from './errors';

/**
 * How a model token's string maps back to the bytes of the text it came from.
 * - `byte-level`: GPT-2's byte-to-unicode alphabet (Llama 3, Qwen, GPT-2, SmolLM): every character of a
 *   token stands for exactly one byte.
 * - `metaspace`: SentencePiece-style BPE (Llama 2, Mistral): `replacement` (usually U+2581) stands for a
 *   space and `<0xNN>` tokens are single bytes when the model falls back to bytes.
 */
export type TokenSurface =
  | { readonly kind: 'byte-level' }
  | { readonly kind: 'metaspace'; readonly replacement: string; readonly byteFallback: boolean };

export interface AddedTokenSurface {
  readonly content: string;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
}

/** `[start, end)` in UTF-16 code units of the encoded text. */
export type CharSpan = readonly [number, number];

let byteLevelDecoder: ReadonlyMap<string, number> | undefined;

// GPT-2's bijection between bytes and printable characters: printable Latin-1 bytes map to themselves,
// the other 68 bytes to U+0100 upwards in byte order.
function byteLevelCharToByte(): ReadonlyMap<string, number> {
  if (byteLevelDecoder !== undefined) return byteLevelDecoder;
  const map = new Map<string, number>();
  let next = 256;
  for (let byte = 0; byte < 256; byte++) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
    map.set(String.fromCodePoint(printable ? byte : next++), byte);
  }
  byteLevelDecoder = map;
  return map;
}

const byteFallbackPattern = /^<0x([0-9A-Fa-f]{2})>$/;
const utf8 = new TextEncoder();

/** The bytes of text a model token stands for, or `null` when its string does not fit `surface`. */
export function modelTokenBytes(token: string, surface: TokenSurface): Uint8Array | null {
  if (surface.kind === 'byte-level') {
    const charToByte = byteLevelCharToByte();
    const chars = Array.from(token);
    const bytes = new Uint8Array(chars.length);
    for (const [index, char] of chars.entries()) {
      const byte = charToByte.get(char);
      if (byte === undefined) return null;
      bytes[index] = byte;
    }
    return bytes;
  }
  const fallback = surface.byteFallback ? byteFallbackPattern.exec(token) : null;
  if (fallback?.[1] !== undefined) return Uint8Array.of(Number.parseInt(fallback[1], 16));
  return utf8.encode(token.replaceAll(surface.replacement, ' '));
}

export interface AlignmentInput {
  readonly text: string;
  /** Ids as the model and added-token splitting produced them, without post-processor tokens. */
  readonly ids: readonly number[];
  readonly addedToken: (id: number) => AddedTokenSurface | undefined;
  readonly tokenBytes: (id: number) => Uint8Array | null;
}

function isWhitespace(char: string): boolean {
  return /\s/u.test(char);
}

function failure(detail: string): TokenizerError {
  return new TokenizerError(
    `cannot map tokens to character offsets: ${detail} (offsets allow a tokenizer to prepend a space and ` +
      'nothing else: normalize text to its Unicode form first, and lowercasing or stripping normalizers are not supported)',
  );
}

/**
 * Character span of every token in `text`. Added tokens are found by their content (with the whitespace
 * their `lstrip`/`rstrip` swallow); the model tokens between two added tokens are matched byte by byte
 * against the text between them. A segment whose tokens carry one byte more than its text, that byte a
 * leading space, had a space prepended by the tokenizer (SentencePiece's `Prepend`/`Metaspace`, ByteLevel's
 * `add_prefix_space`): that byte covers no character. Tokens that split a character's UTF-8 bytes get the
 * whole character, as Hugging Face's offsets do.
 */
export function alignTokens(input: AlignmentInput): CharSpan[] {
  const { text, ids } = input;
  const spans: CharSpan[] = new Array(ids.length);
  let cursor = 0;
  let segmentFirst = 0;
  for (let index = 0; index <= ids.length; index++) {
    const id = ids[index];
    const added = id === undefined ? undefined : input.addedToken(id);
    if (id !== undefined && added === undefined) continue;
    let segmentEnd = text.length;
    let tokenStart = text.length;
    let tokenEnd = text.length;
    if (added !== undefined) {
      const found = text.indexOf(added.content, cursor);
      if (found < 0) throw failure(`added token ${JSON.stringify(added.content)} not found`);
      segmentEnd = found;
      tokenStart = found;
      if (added.lstrip) {
        while (tokenStart > cursor && isWhitespace(text[tokenStart - 1] as string)) tokenStart--;
        segmentEnd = tokenStart;
      }
      tokenEnd = found + added.content.length;
      if (added.rstrip) while (tokenEnd < text.length && isWhitespace(text[tokenEnd] as string)) tokenEnd++;
    }
    alignSegment(input, segmentFirst, index, cursor, segmentEnd, spans);
    if (added !== undefined) spans[index] = [tokenStart, tokenEnd];
    cursor = tokenEnd;
    segmentFirst = index + 1;
  }
  return spans;
}

function alignSegment(
  input: AlignmentInput,
  firstToken: number,
  endToken: number,
  textStart: number,
  textEnd: number,
  spans: CharSpan[],
): void {
  const segment = input.text.slice(textStart, textEnd);
  const segmentBytes = utf8.encode(segment);
  const tokenBytes: Uint8Array[] = [];
  let total = 0;
  for (let index = firstToken; index < endToken; index++) {
    const id = input.ids[index] as number;
    const bytes = input.tokenBytes(id);
    if (bytes === null) throw failure(`token ${id} has no byte form`);
    tokenBytes.push(bytes);
    total += bytes.length;
  }
  let skip = 0;
  if (total === segmentBytes.length + 1 && tokenBytes[0]?.[0] === 0x20) skip = 1;
  else if (total !== segmentBytes.length) {
    throw failure(`${total} token bytes for ${segmentBytes.length} text bytes at character ${textStart}`);
  }
  // charAtByte[b]: UTF-16 index of the character whose UTF-8 encoding contains byte b of the segment.
  const charAtByte = new Int32Array(segmentBytes.length + 1);
  let byte = 0;
  for (let char = 0; char < segment.length; char++) {
    const codePoint = segment.codePointAt(char) as number;
    const width = codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
    charAtByte.fill(char, byte, byte + width);
    byte += width;
    if (codePoint >= 0x10000) char++;
  }
  charAtByte[segmentBytes.length] = segment.length;
  const ceilChar = (at: number): number => {
    if (at >= segmentBytes.length) return segment.length;
    if (at === 0 || charAtByte[at] !== charAtByte[at - 1]) return charAtByte[at] as number;
    let next = at;
    while (next < segmentBytes.length && charAtByte[next] === charAtByte[at]) next++;
    return charAtByte[next] as number;
  };
  let position = 0;
  for (const [offset, bytes] of tokenBytes.entries()) {
    let from = 0;
    if (offset === 0) from = skip;
    for (let k = from; k < bytes.length; k++) {
      if (bytes[k] !== segmentBytes[position + k - from]) {
        throw failure(
          `token bytes differ from the text at character ${textStart + (charAtByte[position] as number)}`,
        );
      }
    }
    const length = bytes.length - from;
    const start = textStart + (charAtByte[position] as number);
    const end = textStart + ceilChar(position + length);
    spans[firstToken + offset] = length === 0 ? [start, start] : [start, end];
    position += length;
  }
}
