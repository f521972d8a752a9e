import { describe, expect, it } from 'vitest';
import { contentDisposition } from '../../../lib/adapters';

describe('contentDisposition', () => {
  it('keeps any filename: an ASCII fallback plus the exact name per RFC 5987', () => {
    // Act
    const plain = contentDisposition('train.jsonl');
    const tricky = contentDisposition(`it's (1) "données"*.jsonl`);

    // Assess
    expect(plain).toBe(`attachment; filename="train.jsonl"; filename*=UTF-8''train.jsonl`);
    expect(tricky).toBe(
      `attachment; filename="it's (1) _donn_es_*.jsonl"; filename*=UTF-8''it%27s%20%281%29%20%22donn%C3%A9es%22%2A.jsonl`,
    );
  });
});
