import { newId } from '../ids';
import type { AuditRecord } from '../schemas';

/** What a caller states about one call; the record's id and time come from one clock reading. */
export type AuditedCall = Omit<AuditRecord, 'id' | 'object' | 'created_at'>;

/** The audit record of a call made at `nowMs` (epoch milliseconds). */
export function auditRecord(call: AuditedCall, nowMs: number): AuditRecord {
  return {
    id: newId('audit', nowMs),
    object: 'whetstone.audit_record',
    created_at: Math.floor(nowMs / 1000),
    ...call,
  };
}
