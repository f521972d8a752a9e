import { Match, type Template } from 'aws-cdk-lib/assertions';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZER_MODULE, ROUTES } from '../../lambdas/routes';
import { HANDLER_ACCESS, handlerModules } from '../../lib/infra/handler-access';
import { type Synthesized, synthesize } from './helpers';

describe('the API stack', () => {
  let synthesized: Synthesized;
  let template: Template;

  beforeAll(() => {
    synthesized = synthesize({
      api: {
        throttleRatePerSecond: 20,
        throttleBurst: 40,
        authorizerCacheSeconds: 30,
        corsOrigins: ['https://console.example.com'],
      },
      logRetentionDays: 90,
    });
    template = synthesized.template(synthesized.built.api);
  });

  it('serves every route with the Lambda proxy method of its module, behind the key authorizer', () => {
    // Prepare
    const api = synthesized.built.api.api;
    const methods = api.restApi.methods.filter((method) => method.httpMethod !== 'OPTIONS');

    // Assess
    const served = methods.map((method) => `${method.httpMethod} ${method.resource.path}`);
    expect(served.sort()).toEqual(
      [...ROUTES.map((route) => `${route.method} ${route.path}`), 'GET /healthz'].sort(),
    );
    for (const method of methods) {
      const cfn = method.node.defaultChild as apigateway.CfnMethod;
      if (method.resource.path === '/healthz') {
        expect(cfn.authorizationType).toBe('NONE');
        expect(cfn.authorizerId).toBeUndefined();
      } else {
        expect(cfn.authorizationType, `${method.httpMethod} ${method.resource.path}`).toBe('CUSTOM');
        expect(cfn.authorizerId).toBeDefined();
      }
    }
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 30,
    });
  });

  it('declares the path parameters of each route and validates every request', () => {
    // Assess
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', {
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'CUSTOM',
      RequestParameters: {
        'method.request.path.fine_tuning_job_id': true,
        'method.request.path.path': true,
      },
      RequestValidatorId: Match.anyValue(),
    });
  });

  it('throttles the stage, logs access as JSON and errors, traces, and sends binary bodies through', () => {
    // Assess
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0]?.Properties;
    expect(stage.StageName).toBe('prod');
    expect(stage.TracingEnabled).toBe(true);
    expect(JSON.parse(stage.AccessLogSetting.Format)).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
    });
    expect(stage.MethodSettings).toContainEqual({
      HttpMethod: '*',
      ResourcePath: '/*',
      DataTraceEnabled: false,
      LoggingLevel: 'ERROR',
      MetricsEnabled: true,
      ThrottlingRateLimit: 20,
      ThrottlingBurstLimit: 40,
    });
    template.hasResourceProperties('AWS::ApiGateway::RestApi', {
      BinaryMediaTypes: ['*/*'],
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('answers preflights and /healthz from mock integrations that read the request as text', () => {
    // Assess
    const mocks = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
      (method) => method.Properties.Integration?.Type === 'MOCK',
    );
    expect(mocks.length).toBeGreaterThan(ROUTES.length / 2);
    for (const mock of mocks) expect(mock.Properties.Integration.ContentHandling).toBe('CONVERT_TO_TEXT');
    const preflight = mocks.find((mock) => mock.Properties.HttpMethod === 'OPTIONS');
    expect(
      preflight?.Properties.Integration.IntegrationResponses[0].ResponseParameters[
        'method.response.header.Access-Control-Allow-Headers'
      ],
    ).toContain('Authorization');
    expect(
      preflight?.Properties.Integration.IntegrationResponses[0].ResponseParameters[
        'method.response.header.Access-Control-Allow-Origin'
      ],
    ).toBe("'https://console.example.com'");
  });

  it("renders API Gateway's own errors in OpenAI's error shape", () => {
    // Assess
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseTemplates: {
        'application/json': JSON.stringify({
          error: {
            message: 'Incorrect or missing API key. Send it as `Authorization: Bearer <key>`.',
            type: 'invalid_request_error',
            param: null,
            code: 'invalid_api_key',
          },
        }),
      },
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'MISSING_AUTHENTICATION_TOKEN',
      StatusCode: '404',
      ResponseTemplates: {
        'application/json': Match.stringLikeRegexp(
          'Unknown request URL: \\$context.httpMethod \\$context.path.*"code":"unknown_url"',
        ),
      },
    });
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'THROTTLED',
      StatusCode: '429',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"type":"rate_limit_error"') },
    });
    const catchAll = Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')).find(
      (response) => response.Properties.ResponseType === 'DEFAULT_5XX',
    );
    expect(catchAll?.Properties.StatusCode).toBeUndefined();
  });

  it('makes one function per handler module: Node.js 24 on arm64, traced, JSON logs, its own role', () => {
    // Assess
    expect(Object.keys(HANDLER_ACCESS).sort()).toEqual(handlerModules().sort());
    template.resourceCountIs('AWS::Lambda::Function', handlerModules().length);
    template.allResourcesProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      MemorySize: Match.anyValue(),
      Timeout: Match.anyValue(),
      Environment: {
        Variables: Match.objectLike({ WHETSTONE_ENV: 'aws', WHETSTONE_TABLE: 'whetstone' }),
      },
    });
    const lambdaRoles = Object.values(template.findResources('AWS::IAM::Role')).filter(
      (role) =>
        role.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'lambda.amazonaws.com',
    );
    expect(lambdaRoles).toHaveLength(handlerModules().length);
    for (const role of lambdaRoles) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const authorizer = synthesized.built.api.handlers.get(AUTHORIZER_MODULE)?.function;
    expect(authorizer?.timeout?.toSeconds()).toBe(10);
  });

  it('tells the handlers where each queue kind runs, by queue and job definition ARN', () => {
    // Prepare
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));

    // Act
    const queues = synthesized.built.api.resolve(
      functions[0]?.Properties.Environment.Variables.WHETSTONE_JOB_QUEUES,
    );

    // Assess
    expect(queues).toEqual({
      'Fn::Join': [
        '',
        [
          '{"none:spot":{"queue":"arn:',
          { Ref: 'AWS::Partition' },
          ':batch:us-east-1:',
          { Ref: 'AWS::AccountId' },
          ':job-queue/whetstone-none-spot","jobDefinition":"arn:',
          { Ref: 'AWS::Partition' },
          ':batch:us-east-1:',
          { Ref: 'AWS::AccountId' },
          ':job-definition/whetstone-trainer-none"},"none:on-demand":{"queue":"arn:',
          { Ref: 'AWS::Partition' },
          ':batch:us-east-1:',
          { Ref: 'AWS::AccountId' },
          ':job-queue/whetstone-none-on-demand","jobDefinition":"arn:',
          { Ref: 'AWS::Partition' },
          ':batch:us-east-1:',
          { Ref: 'AWS::AccountId' },
          ':job-definition/whetstone-trainer-none"}}',
        ],
      ],
    });
  });

  it("stays well inside CloudFormation's 500 resources a stack", () => {
    // Assess
    expect(Object.keys(template.toJSON().Resources).length).toBeLessThan(450);
  });
});
