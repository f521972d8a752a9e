/**
 * The data bucket's key layout (DESIGN.md, Storage). Every object a team owns sits under a prefix
 * that names the team, so an IAM or session policy can scope access by prefix.
 */
export const objectKeys = {
  file: (team: string, fileId: string) => `files/${team}/${fileId}`,
  model: (modelId: string) => `models/${modelId}/`,
  artifacts: (team: string, jobId: string) => `artifacts/${team}/${jobId}/`,
  jobSpec: (team: string, jobId: string) => `artifacts/${team}/${jobId}/spec.json`,
  checkpoint: (team: string, jobId: string, step: number) =>
    `artifacts/${team}/${jobId}/checkpoints/step-${step}/`,
  adapter: (team: string, jobId: string) => `artifacts/${team}/${jobId}/adapter/`,
  /** A fully or partially trained model's weights, in the base model's Hugging Face layout. */
  fullModel: (team: string, jobId: string) => `artifacts/${team}/${jobId}/model/`,
  metrics: (team: string, jobId: string) => `artifacts/${team}/${jobId}/metrics.jsonl`,
  resultCsv: (team: string, jobId: string) => `artifacts/${team}/${jobId}/result.csv`,
  evaluation: (team: string, jobId: string) => `artifacts/${team}/${jobId}/eval/`,
  manifest: (team: string, jobId: string) => `artifacts/${team}/${jobId}/manifest.json`,
} as const;
