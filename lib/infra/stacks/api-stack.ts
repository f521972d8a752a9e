import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { AUTHORIZER_MODULE, ROUTES } from '../../../lambdas/routes';
import { acknowledge } from '../acknowledge';
import { queueKinds } from '../compute-config';
import type { WhetstoneConfig } from '../config';
import { WhetstoneApi } from '../constructs/api';
import { HandlerFunction } from '../constructs/handler-function';
import { JobEvents } from '../constructs/job-events';
import { Observability } from '../constructs/observability';
import { WebhookDelivery } from '../constructs/webhook-delivery';
import { HANDLER_ACCESS, handlerConstructId, handlerModules } from '../handler-access';
import { handlerPolicy, type PlatformResourceArns } from '../handler-policy';
import type { DeploymentNames } from '../names';

export interface ApiStackProps extends StackProps {
  readonly config: WhetstoneConfig;
  readonly names: DeploymentNames;
  /** The data bucket's key (in the platform stack, same region). */
  readonly dataKey: kms.IKey;
}

/** Memory above the default for handlers that hold a request body or an object in memory. */
const MEMORY_MIB: Readonly<Record<string, number>> = {
  'files/create': 1024,
  'uploads/add-part': 1024,
  'uploads/complete': 512,
  'uploads/complete-presigned': 512,
  'files/content': 512,
  'jobs/artifact-content': 512,
};
/** Handlers not called through API Gateway, whose 29-second limit does not bind them. */
const TIMEOUTS: Readonly<Record<string, Duration>> = {
  [AUTHORIZER_MODULE]: Duration.seconds(10),
  'events/batch-state-change': Duration.seconds(60),
  'webhooks/deliver': Duration.seconds(30),
};

/**
 * The control plane: one function per handler module (each with only the access its module
 * uses), the REST API in front of them, and the rules and queues that invoke the rest.
 */
export class ApiStack extends Stack {
  readonly api: WhetstoneApi;
  readonly webhooks: WebhookDelivery;
  readonly jobEvents: JobEvents;
  readonly observability: Observability;
  /** Handler module (`files/create`) -> its function. */
  readonly handlers: ReadonlyMap<string, HandlerFunction>;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    const { config, names } = props;
    const queues = computeQueues(config, names);
    this.webhooks = new WebhookDelivery(this, 'Webhooks', { notificationBusName: names.notificationBus });
    const arns: PlatformResourceArns = {
      tableArn: names.tableArn,
      bucketArn: names.dataBucketArn,
      keyArn: props.dataKey.keyArn,
      jobQueueArns: queues.map((queue) => queue.queueArn),
      jobDefinitionArns: [...new Set(queues.map((queue) => queue.jobDefinitionArn))],
      computeJobArns: Object.keys(config.compute.regions).map((region) => names.computeJobsArn(region)),
      webhookQueueArn: this.webhooks.queue.queueArn,
      notificationBusArn: this.webhooks.bus.eventBusArn,
    };
    const environment: Record<string, string> = {
      WHETSTONE_ENV: 'aws',
      WHETSTONE_TABLE: names.table,
      WHETSTONE_BUCKET: names.dataBucket,
      WHETSTONE_JOB_QUEUES: JSON.stringify(
        Object.fromEntries(
          queues.map((queue) => [
            queue.key,
            { queue: queue.queueArn, jobDefinition: queue.jobDefinitionArn },
          ]),
        ),
      ),
      WHETSTONE_WEBHOOK_QUEUE_URL: this.webhooks.queue.queueUrl,
      WHETSTONE_EVENT_BUS: this.webhooks.bus.eventBusName,
      ...(config.api.corsOrigins.length > 0
        ? { WHETSTONE_CORS_ORIGINS: config.api.corsOrigins.join(',') }
        : {}),
    };

    const handlers = new Map<string, HandlerFunction>();
    for (const module of handlerModules()) {
      const access = HANDLER_ACCESS[module];
      if (!access) throw new Error(`lambdas/${module} has no entry in HANDLER_ACCESS`);
      const policy = handlerPolicy(access, arns);
      handlers.set(
        module,
        new HandlerFunction(this, handlerConstructId(module), {
          module,
          statements: policy.statements,
          wildcards: policy.wildcards,
          environment,
          logRetention: config.logRetentionDays,
          memorySize: MEMORY_MIB[module],
          timeout: TIMEOUTS[module],
        }),
      );
    }
    this.handlers = handlers;
    for (const module of [AUTHORIZER_MODULE, ...ROUTES.map((route) => route.module)]) {
      acknowledge(
        (handlers.get(module) as HandlerFunction).function,
        'Serverless-LambdaDLQ',
        'Invoked synchronously by API Gateway: the caller gets the error, and a dead-letter queue only ever receives asynchronous invocations.',
      );
    }
    const eventsHandler = (handlers.get('events/batch-state-change') as HandlerFunction).function;
    this.jobEvents = new JobEvents(this, 'JobEvents', {
      handler: eventsHandler,
      jobQueueArns: queues.map((queue) => queue.queueArn),
    });
    acknowledge(
      eventsHandler,
      'Serverless-LambdaDLQ',
      "Its asynchronous invocations end in an on-failure destination, the job events' dead-letter queue, which replaces a function dead-letter queue and also records the error.",
    );
    const deliverer = (handlers.get('webhooks/deliver') as HandlerFunction).function;
    this.webhooks.attachDeliverer(deliverer);
    acknowledge(
      deliverer,
      'Serverless-LambdaDLQ',
      "Invoked only by its SQS event source mapping; a failing message moves to the delivery queue's dead-letter queue through the queue's redrive policy.",
    );

    const functions = new Map<string, lambda.IFunction>(
      [...handlers].map(([module, handler]) => [module, handler.function]),
    );
    this.api = new WhetstoneApi(this, 'Api', {
      routes: ROUTES,
      handlers: functions,
      authorizer: handlers.get(AUTHORIZER_MODULE)?.function as lambda.IFunction,
      authorizerCacheSeconds: config.api.authorizerCacheSeconds,
      throttleRatePerSecond: config.api.throttleRatePerSecond,
      throttleBurst: config.api.throttleBurst,
      corsOrigins: config.api.corsOrigins,
      logRetention: config.logRetentionDays as logs.RetentionDays,
    });
    this.observability = new Observability(this, 'Observability', {
      api: this.api.restApi,
      deadLetterQueues: {
        BatchEvents: this.jobEvents.deadLetterQueue,
        WebhookDeliveries: this.webhooks.deadLetterQueue,
      },
      alarmEmail: config.alarms.email,
      apiServerErrorPercent: config.alarms.apiServerErrorPercent,
      dashboardName: names.dashboard,
      jobQueueNames: queues.map((queue) => queue.queueName),
    });
    new CfnOutput(this, 'ApiUrl', {
      description: "The API's URL; the OpenAI SDK's base URL is this followed by /v1",
      value: `https://${this.api.restApi.restApiId}.execute-api.${this.region}.${this.urlSuffix}/${this.api.restApi.deploymentStage.stageName}`,
    });
    // API Gateway's own export describes the deployed resources and integrations;
    // docs/openapi.json, generated from the route table, adds the request and response schemas.
    new CfnOutput(this, 'ExportOpenApi', {
      description:
        "Writes the deployed API's OpenAPI 3.0 description, as API Gateway exports it, to openapi.json",
      value: `aws apigateway get-export --rest-api-id ${this.api.restApi.restApiId} --stage-name ${this.api.restApi.deploymentStage.stageName} --export-type oas30 --parameters extensions=apigateway --region ${this.region} openapi.json`,
    });
  }
}

interface ComputeQueue {
  readonly key: string;
  readonly queueName: string;
  readonly queueArn: string;
  readonly jobDefinitionArn: string;
}

function computeQueues(config: WhetstoneConfig, names: DeploymentNames): ComputeQueue[] {
  return queueKinds(config.compute).map(({ region, gpuType, market }) => ({
    key: names.queueKey(gpuType, market),
    queueName: `${names.jobQueue(gpuType, market)} (${region})`,
    queueArn: names.jobQueueArn(region, gpuType, market),
    jobDefinitionArn: names.jobDefinitionArn(region, gpuType),
  }));
}
