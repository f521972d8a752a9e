import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize } from '../infra/helpers';

type Join = { 'Fn::Join': [string, unknown[]] };

describe("the API stack's OpenAPI export output", () => {
  let outputs: Record<string, { Value: unknown; Description?: string }>;

  beforeAll(() => {
    const synthesized = synthesize({ controlRegion: 'eu-west-1' });
    outputs = synthesized.template(synthesized.built.api).toJSON().Outputs;
  });

  it("gives the exact command that exports the deployed stage's OpenAPI 3.0 description", () => {
    // Prepare: the ApiUrl output names the same REST API and stage.
    const apiUrl = outputs.ApiUrl?.Value as Join;
    const refs = apiUrl['Fn::Join'][1].filter(
      (part) => typeof part === 'object' && part !== null && 'Ref' in part,
    );
    const [restApi, stage] = [refs[0], refs.at(-1)];

    // Act
    const value = outputs.ExportOpenApi?.Value;

    // Assess
    expect(restApi).toEqual({ Ref: expect.stringMatching(/^Api/) });
    expect(stage).toEqual({ Ref: expect.stringMatching(/^ApiDeploymentStageprod/) });
    expect(value).toEqual({
      'Fn::Join': [
        '',
        [
          'aws apigateway get-export --rest-api-id ',
          restApi,
          ' --stage-name ',
          stage,
          ' --export-type oas30 --parameters extensions=apigateway --region eu-west-1 openapi.json',
        ],
      ],
    });
    expect(outputs.ExportOpenApi?.Description).toMatch(/OpenAPI 3\.0/);
  });
});
