/**
 * A raw RFC 822 message reduced to what a reader sees first: the subject and the start of the
 * readable body, as plain text. Headers other than the subject are dropped; MIME parts are
 * decoded (quoted-printable, base64, the declared charset); HTML loses its tags, styles, scripts
 * and entities; long URLs keep only their host, and runs of base64 or other unbroken noise go.
 */
export interface ReducedEmail {
  readonly subject: string;
  readonly body: string;
}

/** An unbroken run longer than this is encoded data or a mangled URL, never a word. */
const MAX_TOKEN_CHARS = 40;
/** URLs up to this length stay whole; longer ones keep their scheme and host. */
const MAX_URL_CHARS = 40;
/** Multipart nesting deeper than this is not followed (real messages stay within three). */
const MAX_MIME_DEPTH = 8;

interface MimePart {
  readonly headers: ReadonlyMap<string, string>;
  /** Undecoded body bytes, one char per byte (latin1). */
  readonly body: string;
}

/**
 * `raw` holds the message's bytes one char per byte (read with the `latin1` encoding), so that
 * every part can be decoded with its own declared charset.
 */
export function reduceEmail(raw: string): ReducedEmail {
  const message = splitPart(raw.replace(/\r\n/g, '\n'));
  const subject = clean(decodeEncodedWords(message.headers.get('subject') ?? ''));
  const text = readableText(message, 0);
  return { subject, body: text === undefined ? '' : clean(text) };
}

/** The e-mail as one prompt: the subject line, then the body, cut at a word near `maxChars`. */
export function emailPrompt(email: ReducedEmail, maxChars: number): string {
  const whole = `Subject: ${email.subject}\n\n${email.body}`.trim();
  if (whole.length <= maxChars) return whole;
  const cut = whole.slice(0, maxChars);
  const lastSpace = cut.search(/\s\S*$/);
  // A cut inside a long word keeps the characters rather than losing most of the line.
  return (lastSpace > maxChars * 0.8 ? cut.slice(0, lastSpace) : cut).trimEnd();
}

function splitPart(text: string): MimePart {
  const blank = text.search(/\n[ \t]*\n/);
  const head = blank < 0 ? text : text.slice(0, blank);
  const body = blank < 0 ? '' : text.slice(text.indexOf('\n', blank + 1) + 1);
  const headers = new Map<string, string>();
  // A header continues on lines that start with white space (folding).
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** The first text/plain part, else the first text/html one, decoded; undefined when none. */
function readableText(part: MimePart, depth: number): string | undefined {
  const contentType = part.headers.get('content-type') ?? 'text/plain';
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? 'text/plain';
  if (mediaType.startsWith('multipart/')) {
    const boundary = headerParameter(contentType, 'boundary');
    if (!boundary || depth >= MAX_MIME_DEPTH) return undefined;
    const parts = splitMultipart(part.body, boundary).map(splitPart);
    const texts = parts.map((child) => ({ child, type: mediaTypeOf(child) }));
    const ordered = [
      ...texts.filter(({ type }) => type === 'text/plain'),
      ...texts.filter(({ type }) => type === 'text/html'),
      ...texts.filter(({ type }) => type.startsWith('multipart/')),
    ];
    for (const { child } of ordered) {
      const text = readableText(child, depth + 1);
      if (text !== undefined && text.trim() !== '') return text;
    }
    return undefined;
  }
  if (mediaType !== 'text/plain' && mediaType !== 'text/html') return undefined;
  const bytes = decodeTransfer(part.body, part.headers.get('content-transfer-encoding') ?? '7bit');
  const text = decodeCharset(bytes, headerParameter(contentType, 'charset'));
  return mediaType === 'text/html' ? htmlToText(text) : text;
}

function mediaTypeOf(part: MimePart): string {
  return (part.headers.get('content-type') ?? 'text/plain').split(';')[0]?.trim().toLowerCase() ?? '';
}

function headerParameter(header: string, name: string): string | undefined {
  const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(header);
  return match ? (match[1] ?? match[2]) : undefined;
}

function splitMultipart(body: string, boundary: string): string[] {
  const parts: string[] = [];
  const delimiter = `--${boundary}`;
  let current: string[] | undefined;
  for (const line of body.split('\n')) {
    const trimmed = line.trimEnd();
    if (trimmed === `${delimiter}--`) break;
    if (trimmed === delimiter) {
      if (current) parts.push(current.join('\n'));
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (current) parts.push(current.join('\n'));
  return parts;
}

function decodeTransfer(body: string, encoding: string): Buffer {
  switch (encoding.trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable':
      return Buffer.from(decodeQuotedPrintable(body), 'latin1');
    default:
      return Buffer.from(body, 'latin1');
  }
}

function decodeQuotedPrintable(body: string): string {
  return body
    .replace(/=[ \t]*\n/g, '')
    .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Unknown or missing charsets read as UTF-8 when the bytes are valid UTF-8, else as Latin-1. */
function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  const label = charset?.trim().toLowerCase();
  if (label && label !== 'utf-8' && label !== 'utf8') {
    try {
      return new TextDecoder(label).decode(bytes);
    } catch {
      // An unknown label (`default`, `default_charset`): fall through to the byte-level guess.
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/** RFC 2047 encoded words (`=?charset?Q|B?text?=`) in a header. */
function decodeEncodedWords(header: string): string {
  return header
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, charset: string, kind: string, text: string) => {
      const bytes =
        kind.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(decodeQuotedPrintable(text.replace(/_/g, ' ')), 'latin1');
      return decodeCharset(bytes, charset);
    })
    .replace(/[\u0080-\u00ff]+/g, (bytes) => decodeCharset(Buffer.from(bytes, 'latin1'), undefined));
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  nbsp: ' ',
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  copy: '(c)',
  reg: '(R)',
  trade: '(TM)',
  middot: '-',
  bull: '-',
  hellip: '...',
  ndash: '-',
  mdash: '-',
  lsquo: "'",
  rsquo: "'",
  ldquo: '"',
  rdquo: '"',
};

function htmlToText(html: string): string {
  return html
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<(style|script|head|title)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<(br|p|div|tr|li|h[1-6]|table|blockquote)\b[^>]*>/gi, '\n')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);?/gi, (entity: string, name: string) => {
      if (name.startsWith('#')) {
        const code =
          name[1] === 'x' || name[1] === 'X'
            ? Number.parseInt(name.slice(2), 16)
            : Number.parseInt(name.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
      }
      return NAMED_ENTITIES[name.toLowerCase()] ?? entity;
    });
}

/**
 * Plain, compact text: long URLs become their scheme and host, unbroken runs of noise and
 * control characters go, lines of only punctuation (rulers, separators) go, white space folds
 * to single spaces within lines and at most one blank line between paragraphs.
 */
function clean(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\uFFFD/g, '')
    .replace(/(?![\n\t])[\p{Cc}\p{Cf}\u2028\u2029]/gu, ' ')
    .replace(/\b((?:https?|ftp):\/\/[^\s/<>"]+)[^\s<>"]*/gi, (url: string, origin: string) =>
      url.length <= MAX_URL_CHARS ? url : `${origin}/...`,
    )
    .replace(new RegExp(`\\S{${MAX_TOKEN_CHARS + 1},}`, 'g'), ' ')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .filter((line) => /[\p{L}\p{N}]/u.test(line) || line === '')
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
