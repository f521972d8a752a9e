import { Busboy } from '@fastify/busboy';
import { InvalidRequestError, PayloadTooLargeError } from '../../lib/core/errors';
import type { UploadedFile } from './types';

export interface MultipartLimits {
  readonly maxFileBytes: number;
  readonly maxFields: number;
  readonly maxFieldBytes: number;
}

/** A form's fields and files; a field sent twice is refused rather than silently merged. */
export type MultipartForm = Record<string, string | UploadedFile>;

export async function parseMultipart(
  body: Buffer,
  contentType: string,
  limits: MultipartLimits,
): Promise<MultipartForm> {
  const form: MultipartForm = {};
  const claim = (name: string) => {
    if (name in form)
      throw new InvalidRequestError(`The form field '${name}' was sent more than once.`, { param: name });
  };
  let parser: ReturnType<typeof Busboy>;
  try {
    parser = Busboy({
      headers: { 'content-type': contentType },
      limits: {
        fileSize: limits.maxFileBytes,
        fields: limits.maxFields,
        fieldSize: limits.maxFieldBytes,
        files: limits.maxFields,
      },
    });
  } catch (error) {
    // A Content-Type without a usable boundary makes the constructor throw at once.
    throw new InvalidRequestError(
      `The multipart/form-data body cannot be read: ${error instanceof Error ? error.message : String(error)}.`,
      { param: 'Content-Type', cause: error },
    );
  }
  const pending: Promise<void>[] = [];
  const parsed = new Promise<void>((resolve, reject) => {
    parser.on('file', (name, stream, filename, _encoding, mimetype) => {
      const part = new Promise<void>((resolveFile, rejectFile) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('limit', () =>
          rejectFile(
            new PayloadTooLargeError(`The file in '${name}' is larger than ${limits.maxFileBytes} bytes.`, {
              param: name,
            }),
          ),
        );
        stream.on('error', rejectFile);
        stream.on('end', () => {
          try {
            claim(name);
            form[name] = { filename, contentType: mimetype, content: Buffer.concat(chunks) };
            resolveFile();
          } catch (error) {
            rejectFile(error);
          }
        });
      });
      // A field's error can end the parse before this part settles; its rejection is then moot,
      // and must not surface as an unhandled rejection that takes the process down.
      part.catch(() => undefined);
      pending.push(part);
    });
    parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
      try {
        if (valueTruncated) {
          throw new InvalidRequestError(
            `The form field '${name}' is longer than ${limits.maxFieldBytes} bytes.`,
            {
              param: name,
            },
          );
        }
        claim(name);
        form[name] = value;
      } catch (error) {
        reject(error);
      }
    });
    const tooMany = () =>
      reject(new InvalidRequestError(`The form has more than ${limits.maxFields} fields.`, { param: null }));
    parser.on('fieldsLimit', tooMany);
    parser.on('filesLimit', tooMany);
    parser.on('partsLimit', tooMany);
    parser.on('error', (error: Error) =>
      reject(
        new InvalidRequestError(`The multipart/form-data body is malformed: ${error.message}`, {
          cause: error,
        }),
      ),
    );
    parser.on('finish', resolve);
  });
  parser.end(body);
  await parsed;
  await Promise.all(pending);
  return form;
}
