import { createHash } from 'node:crypto';
import type { ObjectStore } from '../../lib/adapters';
import { type DatasetReport, DatasetValidator, summarizeProblems } from '../../lib/core/datasets';
import type { FileObject } from '../../lib/core/schemas';

export type ValidationOutcome = Pick<FileObject, 'status' | 'status_details' | 'whetstone'>;

export function outcomeOf(report: DatasetReport): ValidationOutcome {
  return {
    status: report.valid ? 'processed' : 'error',
    status_details: report.valid ? null : summarizeProblems(report),
    whetstone: {
      validation: {
        format: report.format,
        examples: report.examples,
        estimated_tokens: report.estimatedTokens,
        problem_count: report.problemCount,
        problems: [...report.problems],
      },
    },
  };
}

/** Validates a stored object as it streams, so a 512 MB file never sits in memory whole. */
export async function validateStoredObject(
  objects: ObjectStore,
  key: string,
): Promise<{ readonly report: DatasetReport; readonly bytes: number; readonly md5: string }> {
  const body = await objects.get(key);
  if (!body) throw new Error(`object ${key} vanished before validation`);
  const validator = new DatasetValidator();
  const md5 = createHash('md5');
  let bytes = 0;
  for await (const chunk of body.stream) {
    const data = chunk as Buffer;
    validator.push(data);
    md5.update(data);
    bytes += data.length;
  }
  return { report: validator.finish(), bytes, md5: md5.digest('hex') };
}
