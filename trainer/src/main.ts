import { readTrainerEnv, TrainerInputError } from './runtime/env';
import { checkInputObjects, loadSpec, ObjectsByUri } from './runtime/inputs';

/**
 * The trainer's entry point, started by the launchers with the env contract. This build checks
 * the job's inputs and then stops: it cannot train yet, so it fails rather than report success.
 *
 * Exit codes: 2, the inputs are wrong (not retried); 1, anything else, including "cannot train".
 */
const NOT_AVAILABLE_MESSAGE =
  "Training is not available in this build of the Whetstone trainer: it checks a job's inputs but cannot train";

async function main(): Promise<number> {
  const env = readTrainerEnv(process.env);
  const objects = new ObjectsByUri(env.environment);
  const spec = await loadSpec(objects, env);
  await checkInputObjects(objects, spec);
  console.log(
    `Job ${env.jobId} (launch ${env.launch}, attempt ${env.attempt}): the spec and its inputs are in place`,
  );
  console.error(`${NOT_AVAILABLE_MESSAGE}; job ${env.jobId} was not trained`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof TrainerInputError) {
      console.error(`Invalid trainer input: ${error.message}`);
      process.exit(TrainerInputError.exitCode);
    }
    console.error('The trainer failed:', error);
    process.exit(1);
  },
);
