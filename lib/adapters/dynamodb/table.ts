import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * One table holds every record (DESIGN.md: one table unless a reason is written down).
 *
 * | entity        | PK                  | SK                          | GSI1PK                | GSI1SK   | serves                               |
 * |---------------|---------------------|-----------------------------|-----------------------|----------|--------------------------------------|
 * | team          | TEAM#{team}         | TEAM                        | TEAMS                 | {team}   | get team; owner lists all teams      |
 * | api key       | APIKEY#{key_id}     | APIKEY                      | TEAM#{team}#APIKEYS   | {key_id} | authorizer reads one key by id;      |
 * |               |                     |                             |                       |          | admins list their team's keys        |
 * | file          | TEAM#{team}         | FILE#{file_id}              |                       |          | get / delete; list newest first      |
 * | upload        | TEAM#{team}         | UPLOAD#{upload_id}          |                       |          | get upload; part-number counter      |
 * | upload part   | TEAM#{team}         | UPLOAD#{upload_id}#PART#{n} |                       |          | list one upload's parts in order     |
 * | audit record  | TEAM#{team}         | AUDIT#{audit_id}            | AUDIT                 | {id}     | team's audit trail; owner's all-team |
 * | idempotency   | TEAM#{team}         | IDEMPOTENCY#{key_id}#{key}  |                       |          | replay or refuse a repeated POST     |
 * | job           | TEAM#{team}         | JOB#{job_id}                | TEAM#{team}#WAITING*  | {job_id} | get, list newest first; *only while  |
 * |               |                     |                             |                       |          | waiting for a running-job slot       |
 * | job slots     | TEAM#{team}         | JOBSLOTS                    |                       |          | team's count of launched jobs        |
 * | job event     | TEAM#{team}         | JOBEVENT#{job_id}#{event_id}|                       |          | one job's events, newest first       |
 * | checkpoint    | TEAM#{team}         | JOBCKPT#{job_id}#{ckpt_id}  |                       |          | one job's checkpoints, newest first  |
 * | base model    | MODEL#{model_id}    | MODEL                       | MODELS                | {id}     | resolve a job's model; list models   |
 * | tuned model   | TEAM#{team}         | FTMODEL#{model_name}        |                       |          | team's fine-tuned models             |
 * | webhook       | TEAM#{team}         | WEBHOOK#{endpoint_id}       |                       |          | team's endpoints                     |
 * | delivery      | TEAM#{team}         | WEBHOOKDELIVERY#{id}        |                       |          | team's delivery log, newest first    |
 *
 * Everything a team owns sits in the team's partition, so a read can only reach another team's
 * record by naming that team's partition key, which no handler derives from request input.
 * Ids are ULIDs, so SK order is creation order and a descending query is OpenAI's newest-first
 * listing; `after` becomes `ExclusiveStartKey`.
 * `expires_at_ttl` (epoch seconds) is the TTL attribute: idempotency records and abandoned uploads
 * age out by themselves.
 * The AUDIT GSI1 partition takes every audit write; control-plane write rates are far below one
 * partition's limit, and sharding it by day is a key change only if that stops holding.
 */
export const TTL_ATTRIBUTE = 'expires_at_ttl';
export const GSI1 = 'GSI1';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'PK', AttributeType: 'S' },
      { AttributeName: 'SK', AttributeType: 'S' },
      { AttributeName: 'GSI1PK', AttributeType: 'S' },
      { AttributeName: 'GSI1SK', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: GSI1,
        KeySchema: [
          { AttributeName: 'GSI1PK', KeyType: 'HASH' },
          { AttributeName: 'GSI1SK', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

export const keys = {
  team: (team: string) => ({ PK: `TEAM#${team}`, SK: 'TEAM' }),
  teamIndex: (team: string) => ({ GSI1PK: 'TEAMS', GSI1SK: team }),
  apiKey: (keyId: string) => ({ PK: `APIKEY#${keyId}`, SK: 'APIKEY' }),
  apiKeyIndex: (team: string, keyId: string) => ({ GSI1PK: `TEAM#${team}#APIKEYS`, GSI1SK: keyId }),
  file: (team: string, fileId: string) => ({ PK: `TEAM#${team}`, SK: `FILE#${fileId}` }),
  upload: (team: string, uploadId: string) => ({ PK: `TEAM#${team}`, SK: `UPLOAD#${uploadId}` }),
  uploadPart: (team: string, uploadId: string, partNumber: number) => ({
    PK: `TEAM#${team}`,
    SK: `UPLOAD#${uploadId}#PART#${String(partNumber).padStart(5, '0')}`,
  }),
  audit: (team: string, auditId: string) => ({ PK: `TEAM#${team}`, SK: `AUDIT#${auditId}` }),
  auditIndex: (auditId: string) => ({ GSI1PK: 'AUDIT', GSI1SK: auditId }),
  idempotency: (team: string, key: string) => ({ PK: `TEAM#${team}`, SK: `IDEMPOTENCY#${key}` }),
  job: (team: string, jobId: string) => ({ PK: `TEAM#${team}`, SK: `JOB#${jobId}` }),
  jobWaitingIndex: (team: string, jobId: string) => ({ GSI1PK: `TEAM#${team}#WAITING`, GSI1SK: jobId }),
  jobSlots: (team: string) => ({ PK: `TEAM#${team}`, SK: 'JOBSLOTS' }),
  jobEvent: (team: string, jobId: string, eventId: string) => ({
    PK: `TEAM#${team}`,
    SK: `JOBEVENT#${jobId}#${eventId}`,
  }),
  checkpoint: (team: string, jobId: string, checkpointId: string) => ({
    PK: `TEAM#${team}`,
    SK: `JOBCKPT#${jobId}#${checkpointId}`,
  }),
  baseModel: (modelId: string) => ({ PK: `MODEL#${modelId}`, SK: 'MODEL' }),
  baseModelIndex: (modelId: string) => ({ GSI1PK: 'MODELS', GSI1SK: modelId }),
  fineTunedModel: (team: string, name: string) => ({ PK: `TEAM#${team}`, SK: `FTMODEL#${name}` }),
  webhook: (team: string, endpointId: string) => ({ PK: `TEAM#${team}`, SK: `WEBHOOK#${endpointId}` }),
  webhookDelivery: (team: string, deliveryId: string) => ({
    PK: `TEAM#${team}`,
    SK: `WEBHOOKDELIVERY#${deliveryId}`,
  }),
} as const;
