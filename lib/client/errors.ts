/** The API answered with an error: OpenAI's `{"error":{"message","type","param","code"}}` and its status. */
export class WhetstoneApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;

  constructor(
    status: number,
    error: {
      readonly message: string;
      readonly type: string;
      readonly code: string | null;
      readonly param: string | null;
    },
  ) {
    super(error.message);
    this.name = 'WhetstoneApiError';
    this.status = status;
    this.type = error.type;
    this.code = error.code;
    this.param = error.param;
  }
}

/** No HTTP answer came back at all: nothing listens at the URL, DNS failed, the connection dropped. */
export class WhetstoneConnectionError extends Error {
  readonly url: string;

  constructor(url: string, cause: unknown) {
    super(`Cannot reach Whetstone at ${url}: ${describeCause(cause)}. Is the platform running there?`, {
      cause,
    });
    this.name = 'WhetstoneConnectionError';
    this.url = url;
  }
}

/** undici reports every network failure as `TypeError: fetch failed`; the reason is in `cause`. */
function describeCause(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 5; depth += 1) {
    const next = (current as { cause?: unknown } | null)?.cause;
    if (next === undefined || next === null) break;
    current = next;
  }
  if (current instanceof Error) {
    const code = (current as NodeJS.ErrnoException).code;
    return code && !current.message.includes(code) ? `${code} ${current.message}` : current.message;
  }
  return String(current);
}
