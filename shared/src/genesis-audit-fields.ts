/**
 * The fields of an EMP notification or API answer that say what happened to which transaction,
 * and nothing about the person: what a payload keeps once the retention period for raw payloads
 * is over (docs/personal-data.md). A whitelist, so a field Genesis adds later is dropped, not kept.
 * Payloads use Genesis' snake_case names, stored API answers the parser's camelCase ones.
 */
const AUDIT_FIELDS = new Set([
  'unique_id', 'uniqueId',
  'transaction_id', 'transactionId',
  'transaction_type', 'transactionType',
  'status', 'notification_status', 'event', 'mode',
  'amount', 'currency',
  'code', 'error_code', 'reason_code', 'rc_code', 'reasonCode',
  'chargeback_type', 'type', 'arn', 'post_date', 'postDate',
  'original_transaction_unique_id', 'originalTransactionUniqueId',
  'reference_transaction_unique_id', 'referenceTransactionUniqueId',
  'wpf_unique_id', 'wpf_transaction_id', 'wpf_status',
  'payment_transaction_unique_id', 'payment_transaction_transaction_type',
  'terminal_token', 'terminalToken',
  'timestamp', 'sentToAcquirer',
  'found', 'reason',
]);

/** Nested answers whose own audit fields are kept (confirmation's emp_answer). */
const NESTED = new Set(['transaction', 'original']);

export function reduceToAuditFields(value: Record<string, unknown>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (field !== null && typeof field === 'object') {
      if (NESTED.has(key) && !Array.isArray(field)) kept[key] = reduceToAuditFields(field as Record<string, unknown>);
    } else if (AUDIT_FIELDS.has(key)) {
      kept[key] = field;
    }
  }
  return kept;
}
