import { open } from 'node:fs/promises';
import { DataError, ExampleError } from './errors';
import { parseTrainingExample, type TrainingExample } from './examples';

export interface JsonlExample {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly example: TrainingExample;
}

/**
 * The examples of a JSONL file, one per non-blank line, read as a stream. A bad line fails with an
 * `ExampleError` naming the file, line and field, e.g. `train.jsonl:4: "messages[0].role" must be one of
 * system, user, assistant, tool, got "robot"`.
 */
export async function* readJsonlExamples(file: string): AsyncGenerator<JsonlExample> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    throw new DataError(`${file}: cannot be read: ${(error as Error).message}`, { cause: error });
  }
  try {
    let line = 0;
    for await (const raw of handle.readLines({ encoding: 'utf8' })) {
      line++;
      const text = line === 1 && raw.startsWith('\uFEFF') ? raw.slice(1) : raw;
      if (text.trim().length === 0) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new ExampleError(`invalid JSON (${(error as Error).message})`, { file, line, cause: error });
      }
      let example: TrainingExample;
      try {
        example = parseTrainingExample(value);
      } catch (error) {
        if (!(error instanceof ExampleError)) throw error;
        throw new ExampleError(error.message, { field: error.field, file, line, cause: error });
      }
      yield { line, example };
    }
  } finally {
    await handle.close();
  }
}
