import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import type { JobArtifact, WhetstoneClient } from '../../client';
import { type ApiOptions, apiCommand, morePages, pageLimit, withClient } from '../api';
import { printJson, printTable } from '../output';

interface ArtifactListOptions extends ApiOptions {
  readonly limit?: number;
  readonly after?: string;
}
interface DownloadOptions extends ApiOptions {
  readonly out?: string;
}

/** `whet jobs artifacts|download`: what a job left in its folder (adapter, checkpoints, eval, ...). */
export function registerArtifactCommands(jobs: Command): void {
  apiCommand(jobs, 'artifacts <job_id>', "list a job's artifacts with their download URLs, in path order")
    .option('--limit <n>', 'at most this many (1-100, default 20)', pageLimit)
    .option('--after <path>', 'start after this path')
    .action((jobId: string, options: ArtifactListOptions) =>
      withClient(options, async (client) => {
        const page = await client.fineTuning.jobs.listArtifacts(jobId, {
          limit: options.limit,
          after: options.after,
        });
        if (options.json) return printJson(page);
        if (page.data.length === 0) return console.log('No artifacts.');
        printTable(
          ['PATH', 'BYTES', 'URL'],
          page.data.map((artifact) => [artifact.path, String(artifact.bytes), artifact.url]),
        );
        morePages(page, `whet jobs artifacts ${jobId}`);
      }),
    );

  apiCommand(
    jobs,
    'download <job_id> [path]',
    "download a job's artifacts (all, one file, or a folder such as adapter) to OUT/<path>",
  )
    .option('--out <dir>', 'where the artifacts go (default: a folder named after the job)')
    .action((jobId: string, path: string | undefined, options: DownloadOptions) =>
      withClient(options, async (client) => {
        const out = resolve(options.out ?? jobId);
        const chosen = (await allArtifacts(client, jobId)).filter((artifact) => within(artifact.path, path));
        if (chosen.length === 0) {
          throw new Error(
            path === undefined
              ? `Job ${jobId} has no artifacts yet.`
              : `Job ${jobId} has no artifact ${path} and no folder of that name.`,
          );
        }
        const written: { path: string; file: string; bytes: number }[] = [];
        for (const artifact of chosen) {
          const file = targetFile(out, artifact.path);
          const content = await client.fineTuning.jobs.downloadArtifact(jobId, artifact.path);
          if (content.length !== artifact.bytes) {
            throw new Error(
              `${artifact.path} arrived with ${content.length} bytes, but the listing said ${artifact.bytes}.`,
            );
          }
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, content);
          written.push({ path: artifact.path, file, bytes: content.length });
          if (!options.json) console.log(`${artifact.path}  ${content.length} bytes`);
        }
        if (options.json) return printJson(written);
        const total = written.reduce((sum, entry) => sum + entry.bytes, 0);
        console.log(`Downloaded ${written.length} artifacts (${total} bytes) to ${out}.`);
      }),
    );
}

async function allArtifacts(client: WhetstoneClient, jobId: string): Promise<JobArtifact[]> {
  const artifacts: JobArtifact[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await client.fineTuning.jobs.listArtifacts(jobId, { limit: 100, after });
    artifacts.push(...page.data);
    if (!page.has_more || page.last_id === null) return artifacts;
    after = page.last_id;
  }
}

/** The artifact itself, or one in the folder `path` names (with or without its trailing `/`). */
function within(artifactPath: string, path: string | undefined): boolean {
  if (path === undefined) return true;
  return artifactPath === path || artifactPath.startsWith(path.endsWith('/') ? path : `${path}/`);
}

/** Where an artifact is written; a path the API sent that would land outside `out` is refused. */
function targetFile(out: string, artifactPath: string): string {
  const file = join(out, artifactPath);
  const inside = relative(out, file);
  if (inside === '' || inside.split(sep)[0] === '..' || isAbsolute(inside) || isAbsolute(artifactPath)) {
    throw new Error(`The API listed an artifact path that leads outside ${out}: ${artifactPath}`);
  }
  return file;
}
