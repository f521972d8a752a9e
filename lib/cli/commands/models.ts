import { type Command, InvalidArgumentError } from 'commander';
import { type ModelObject, registerModelRequestSchema } from '../../core/schemas';
import { type ApiOptions, apiCommand, withClient } from '../api';
import { formatTime, printFields, printJson, printTable } from '../output';

interface RegisterOptions extends ApiOptions {
  readonly prefix?: string;
}

/** `whet models list|get|delete|register`: base models and the team's fine-tuned models. */
export function registerModelsCommands(program: Command): void {
  const models = program
    .command('models')
    .description("registered base models and the key's team's fine-tuned models");

  apiCommand(models, 'list', "list base models, then the team's fine-tuned models").action(
    (options: ApiOptions) =>
      withClient(options, async (client) => {
        const list = await client.models.list();
        if (options.json) return printJson(list);
        if (list.data.length === 0) return console.log('No models.');
        printTable(
          ['ID', 'KIND', 'OWNED BY', 'BASE MODEL', 'CREATED'],
          list.data.map((model) => [
            model.id,
            model.whetstone?.kind ?? '-',
            model.owned_by,
            model.whetstone?.base_model ?? '-',
            formatTime(model.created),
          ]),
        );
      }),
  );

  apiCommand(models, 'get <model>', 'show a model: where it comes from and what made it').action(
    (model: string, options: ApiOptions) =>
      withClient(options, async (client) => {
        const found = await client.models.retrieve(model);
        if (options.json) return printJson(found);
        printFields(details(found));
      }),
  );

  apiCommand(
    models,
    'delete <model>',
    "delete one of the team's fine-tuned models and its files (admin)",
  ).action((model: string, options: ApiOptions) =>
    withClient(options, async (client) => {
      const deleted = await client.models.delete(model);
      if (options.json) return printJson(deleted);
      console.log(`Deleted model ${deleted.id}.`);
    }),
  );

  apiCommand(models, 'register', 'register a base model whose files are already in the data bucket (owner)')
    .argument(
      '<id>',
      'the name jobs will give as their model',
      checked('id', registerModelRequestSchema.shape.id),
    )
    .option(
      '--prefix <prefix>',
      'where its Hugging Face files are (default: models/<id>/ in the bucket)',
      checked('prefix', registerModelRequestSchema.shape.prefix),
    )
    .action((id: string, options: RegisterOptions) =>
      withClient(options, async (client) => {
        const model = await client.models.register({ id, prefix: options.prefix });
        if (options.json) return printJson(model);
        const architecture = model.whetstone ? ` (${model.whetstone.architecture})` : '';
        console.log(`Registered base model ${model.id}${architecture}.`);
      }),
    );
}

/** Refuses what the API would, with the API's own words for the rule, before any request. */
function checked(
  name: string,
  schema: typeof registerModelRequestSchema.shape.id | typeof registerModelRequestSchema.shape.prefix,
): (text: string) => string {
  return (text) => {
    const result = schema.safeParse(text);
    if (!result.success || result.data === undefined) {
      const rule = result.error?.issues[0]?.message ?? 'must be valid';
      throw new InvalidArgumentError(`'${text}' is not a valid ${name}: it ${rule}.`);
    }
    return result.data;
  };
}

function details(model: ModelObject): [string, string | undefined][] {
  return [
    ['id', model.id],
    ['kind', model.whetstone?.kind],
    ['architecture', model.whetstone?.architecture],
    ['owned by', model.owned_by],
    ['base model', model.whetstone?.base_model ?? undefined],
    ['job', model.whetstone?.job_id ?? undefined],
    ['created', formatTime(model.created)],
  ];
}
