import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_BASE_MODEL } from '../../lib/local/base-models';
import { type RunningProduct, startProduct } from '../e2e/product';

interface ListedModel {
  readonly id: string;
  readonly created: number;
  readonly owned_by: string;
  readonly whetstone: { readonly kind: string; readonly architecture: string };
}

async function listModels(product: RunningProduct): Promise<ListedModel[]> {
  const response = await fetch(`${product.url}/v1/models`, {
    headers: { Authorization: `Bearer ${product.apiKey}` },
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: ListedModel[] }).data;
}

async function modelObjects(product: RunningProduct): Promise<[string, number][]> {
  const s3 = new S3Client({
    endpoint: product.s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  try {
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: product.bucket, Prefix: `models/${DEMO_BASE_MODEL.id}/` }),
    );
    return (listed.Contents ?? []).map((object) => [object.Key ?? '', object.Size ?? -1]);
  } finally {
    s3.destroy();
  }
}

/**
 * `whet start` (what `npm start` runs) registers the committed demo model on the first start of
 * a data dir, and a restart finds it registered and leaves it so.
 */
describe('the demo base model on `whet start`', () => {
  let product: RunningProduct | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await product?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('is registered on first start, with its files in the bucket, and kept as it is on a restart', async () => {
    // Prepare
    const localSize = (name: string) => statSync(join(DEMO_BASE_MODEL.dir, name)).size;
    const required = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

    // Act
    product = await startProduct();
    dataDir = product.dataDir;
    const first = await listModels(product);
    const objects = await modelObjects(product);
    await product.stop();
    product = await startProduct({ dataDir });
    const second = await listModels(product);

    // Assess
    const demo = first.find((model) => model.id === DEMO_BASE_MODEL.id);
    expect(demo).toMatchObject({
      id: 'whetstone-demo-5m',
      owned_by: 'whetstone',
      whetstone: { kind: 'base', architecture: 'LlamaForCausalLM' },
    });
    const uploaded = objects.map(([key]) => key.slice(`models/${DEMO_BASE_MODEL.id}/`.length));
    expect(uploaded).toEqual(expect.arrayContaining(required));
    expect(objects).toEqual(
      uploaded.map((name) => [`models/${DEMO_BASE_MODEL.id}/${name}`, localSize(name)]),
    );
    expect(second.filter((model) => model.id === DEMO_BASE_MODEL.id)).toEqual([demo]);
  });
});
