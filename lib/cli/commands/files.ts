import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type Command, Option } from 'commander';
import type { FilePurpose } from '../../client';
import { FILE_PURPOSES, type FileObject, UPLOAD_PURPOSES } from '../../core/schemas';
import { type ApiOptions, apiCommand, withClient } from '../api';
import { formatTime, printFields, printJson, printTable } from '../output';

interface UploadOptions extends ApiOptions {
  readonly purpose: FilePurpose;
}
interface ListOptions extends ApiOptions {
  readonly purpose?: FilePurpose;
}
interface ContentOptions extends ApiOptions {
  readonly output?: string;
}

/** `whet files upload|list|get|content|delete`: training files of the key's team. */
export function registerFilesCommands(program: Command): void {
  const files = program.command('files').description("training files (JSONL) of the key's team");

  apiCommand(files, 'upload <path>', 'upload a JSONL file; it is validated on arrival')
    .addOption(
      new Option('--purpose <purpose>', 'what the file is for').choices(UPLOAD_PURPOSES).default('fine-tune'),
    )
    .action((path: string, options: UploadOptions) =>
      withClient(options, async (client) => {
        const content = readLocalFile(path);
        const file = await client.files.create({
          filename: basename(path),
          content,
          purpose: options.purpose,
        });
        if (options.json) printJson(file);
        else printFields(summary(file));
        // The file is stored either way; a non-zero exit keeps scripts from training on it.
        if (file.status === 'error') {
          throw new Error(
            `${path} is not a valid fine-tuning dataset: ${file.status_details ?? 'no details'}`,
          );
        }
      }),
    );

  apiCommand(files, 'list', "list the team's files, newest first")
    .addOption(new Option('--purpose <purpose>', 'only files for this purpose').choices(FILE_PURPOSES))
    .action((options: ListOptions) =>
      withClient(options, async (client) => {
        const page = await client.files.list({ purpose: options.purpose });
        if (options.json) return printJson(page);
        if (page.data.length === 0) return console.log('No files.');
        printTable(
          ['ID', 'STATUS', 'BYTES', 'CREATED', 'FILENAME'],
          page.data.map((file) => [
            file.id,
            file.status,
            String(file.bytes),
            formatTime(file.created_at),
            file.filename,
          ]),
        );
      }),
    );

  apiCommand(files, 'get <file_id>', "show a file's details and validation result").action(
    (fileId: string, options: ApiOptions) =>
      withClient(options, async (client) => {
        const file = await client.files.retrieve(fileId);
        if (options.json) return printJson(file);
        printFields([
          ...summary(file),
          ['purpose', file.purpose],
          ['created', formatTime(file.created_at)],
          ['expires', formatTime(file.expires_at)],
        ]);
        for (const problem of file.whetstone.validation?.problems ?? []) {
          const where = problem.line === null ? '' : `line ${problem.line}: `;
          console.log(`  ${where}${problem.message} [${problem.code}]`);
        }
      }),
  );

  apiCommand(files, 'content <file_id>', "download a file's content (to stdout unless -o)")
    .option('-o, --output <path>', 'write the content to this file')
    .action((fileId: string, options: ContentOptions) =>
      withClient(options, async (client) => {
        const content = await client.files.content(fileId);
        if (options.output === undefined) {
          process.stdout.write(content);
          return;
        }
        writeFileSync(options.output, content);
        if (options.json) return printJson({ id: fileId, path: options.output, bytes: content.length });
        console.log(`Wrote ${content.length} bytes to ${options.output}.`);
      }),
    );

  apiCommand(files, 'delete <file_id>', 'delete a file and its content').action(
    (fileId: string, options: ApiOptions) =>
      withClient(options, async (client) => {
        const deleted = await client.files.delete(fileId);
        if (options.json) return printJson(deleted);
        console.log(`Deleted ${deleted.id}.`);
      }),
  );
}

function summary(file: FileObject): [string, string | undefined][] {
  const validation = file.whetstone.validation;
  const examples =
    validation === null
      ? undefined
      : `${validation.examples} (${validation.format ?? 'unknown format'}, about ${validation.estimated_tokens} tokens)`;
  return [
    ['id', file.id],
    ['filename', file.filename],
    ['bytes', String(file.bytes)],
    ['status', file.status],
    ['examples', examples],
    ['details', file.status_details ?? undefined],
  ];
}

function readLocalFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new Error(`Cannot read ${path}: ${reason}.`);
  }
}
