import { S3Client } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  /** Defaults to the SDK's own resolution (`AWS_ENDPOINT_URL_S3`, then the region's endpoint). */
  readonly endpoint?: string;
  readonly region?: string;
  /** Local S3 servers serve buckets by path, not by virtual host. */
  readonly forcePathStyle?: boolean;
}

export function createS3Client(options: S3ClientOptions = {}): S3Client {
  return new S3Client({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
    forcePathStyle: options.forcePathStyle ?? false,
    // With the default (WHEN_SUPPORTED) streamed bodies are sent aws-chunked with trailing
    // checksums, which s3rver stores verbatim; S3 itself verifies Content-MD5 and TLS protects
    // the transfer either way.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}
