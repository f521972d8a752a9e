import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../../../lambdas/routes';
import { acknowledge } from '../acknowledge';
import { GATEWAY_ERRORS } from '../gateway-errors';

export interface WhetstoneApiProps {
  /** Every route, served by the function of its module. */
  readonly routes: readonly RouteDefinition[];
  readonly handlers: ReadonlyMap<string, lambda.IFunction>;
  /** The REQUEST authorizer's function, checking `Authorization: Bearer <key>`. */
  readonly authorizer: lambda.IFunction;
  /** Seconds a key's verdict is cached; default 60. */
  readonly authorizerCacheSeconds?: number;
  /** Stage throttling; default 50 requests per second with bursts of 100. */
  readonly throttleRatePerSecond?: number;
  readonly throttleBurst?: number;
  /** Browser origins allowed to call the API; default none (no preflight methods). */
  readonly corsOrigins?: readonly string[];
  readonly logRetention: logs.RetentionDays;
  /** Default `prod`: the SDK's base URL is `https://{api}.execute-api.{region}.amazonaws.com/prod/v1`. */
  readonly stageName?: string;
}

/**
 * Headers a browser may send: the SDK's own (`x-stainless-*`), and `Authorization`, which a `*`
 * in Access-Control-Allow-Headers never covers.
 */
const CORS_ALLOW_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'OpenAI-Organization',
  'OpenAI-Project',
  'X-Stainless-Arch',
  'X-Stainless-Lang',
  'X-Stainless-OS',
  'X-Stainless-Package-Version',
  'X-Stainless-Retry-Count',
  'X-Stainless-Runtime',
  'X-Stainless-Runtime-Version',
  'X-Stainless-Timeout',
];

/**
 * The OpenAI-compatible REST API: one Lambda proxy method per route behind the key authorizer,
 * requests validated, stage throttling, JSON access logs, execution logs on errors, tracing, and
 * API Gateway's own errors in OpenAI's error shape. `GET /healthz` alone needs no key.
 */
export class WhetstoneApi extends Construct {
  readonly restApi: apigateway.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  readonly authorizer: apigateway.RequestAuthorizer;
  readonly requestValidator: apigateway.RequestValidator;
  /** `GET /healthz`, answered by API Gateway itself. */
  readonly healthMethod: apigateway.Method;

  constructor(scope: Construct, id: string, props: WhetstoneApiProps) {
    super(scope, id);
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const corsOrigins = props.corsOrigins ?? [];
    this.restApi = new apigateway.RestApi(this, 'Api', {
      description: 'Whetstone: the OpenAI-compatible fine-tuning API',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Uploads and file contents are binary; the handlers decode base64 bodies and set isBase64Encoded.
      binaryMediaTypes: ['*/*'],
      // The account's API Gateway logging role; the recommended flags no longer make it by default.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: props.stageName ?? 'prod',
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttleRatePerSecond ?? 50,
        throttlingBurstLimit: props.throttleBurst ?? 100,
      },
      ...(corsOrigins.length > 0
        ? {
            defaultCorsPreflightOptions: {
              allowOrigins: [...corsOrigins],
              allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
              allowHeaders: CORS_ALLOW_HEADERS,
              maxAge: Duration.hours(1),
            },
          }
        : {}),
    });
    this.authorizer = new apigateway.RequestAuthorizer(this, 'KeyAuthorizer', {
      handler: props.authorizer,
      identitySources: [apigateway.IdentitySource.header('Authorization')],
      resultsCacheTtl: Duration.seconds(props.authorizerCacheSeconds ?? 60),
    });
    this.requestValidator = this.restApi.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    for (const route of props.routes) {
      const handler = props.handlers.get(route.module);
      if (!handler)
        throw new Error(`No function for lambdas/${route.module} (${route.method} ${route.path})`);
      const integration = new apigateway.LambdaIntegration(handler, { allowTestInvoke: false });
      const method = this.restApi.root.resourceForPath(route.path).addMethod(route.method, integration, {
        authorizer: this.authorizer,
        authorizationType: apigateway.AuthorizationType.CUSTOM,
        requestValidator: this.requestValidator,
        requestParameters: Object.fromEntries(
          pathParameters(route.path).map((name) => [`method.request.path.${name}`, true]),
        ),
      });
      acknowledge(
        method,
        'AwsSolutions-COG4',
        "OpenAI's protocol authenticates with bearer API keys, which the REQUEST authorizer checks on every method; Cognito issues no such keys.",
      );
    }

    this.healthMethod = this.restApi.root.addResource('healthz').addMethod(
      'GET',
      new apigateway.MockIntegration({
        contentHandling: apigateway.ContentHandling.CONVERT_TO_TEXT,
        requestTemplates: { 'application/json': '{"statusCode": 200}' },
        integrationResponses: [
          { statusCode: '200', responseTemplates: { 'application/json': '{"status":"ok"}' } },
        ],
      }),
      {
        authorizationType: apigateway.AuthorizationType.NONE,
        requestValidator: this.requestValidator,
        methodResponses: [{ statusCode: '200' }],
      },
    );
    acknowledge(
      this.healthMethod,
      'AwsSolutions-APIG4',
      'The health check answers {"status":"ok"} from API Gateway itself, reaches no handler or data, and must work without a key for load balancers and uptime probes.',
    );
    acknowledge(
      this.healthMethod,
      'AwsSolutions-COG4',
      'The health check is the one method without authorization: it answers from API Gateway itself and reaches no handler or data.',
    );
    acknowledge(
      this.restApi.deploymentStage,
      'AwsSolutions-APIG3',
      "Every method but /healthz requires a key and the stage is throttled. AWS WAF's Core rule set blocks request bodies over 8 KB by default, which would break file uploads, so a web ACL and its rules are left to the team.",
    );
    const cloudWatchRole = this.restApi.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      acknowledge(
        cloudWatchRole,
        'AwsSolutions-IAM4',
        "API Gateway's account-wide logging role needs exactly the AWS-maintained AmazonAPIGatewayPushToCloudWatchLogs policy, which AWS keeps current with the service.",
        'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs',
      );
    }
    this.convertMockRequestsToText();

    for (const response of GATEWAY_ERRORS) {
      this.restApi.addGatewayResponse(response.id, {
        type: response.type,
        ...(response.statusCode ? { statusCode: String(response.statusCode) } : {}),
        responseHeaders: corsOrigins.length > 0 ? { 'Access-Control-Allow-Origin': "'*'" } : {},
        templates: { 'application/json': JSON.stringify(response.body) },
      });
    }
  }

  /**
   * With every media type binary, a mock integration without CONVERT_TO_TEXT cannot read the
   * request and answers 500; CDK's CORS preflight methods have no option for it.
   */
  private convertMockRequestsToText(): void {
    for (const method of this.restApi.methods) {
      if (method.httpMethod !== 'OPTIONS') continue;
      (method.node.defaultChild as apigateway.CfnMethod).addPropertyOverride(
        'Integration.ContentHandling',
        apigateway.ContentHandling.CONVERT_TO_TEXT,
      );
    }
  }
}

function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((match) => match[1] as string);
}
