/**
 * The database schema, as code. `npm run db:generate` turns changes here into a new SQL
 * migration under migrations/; the backend applies pending migrations at start-up.
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  char,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { AttemptStatus } from '@tether/shared/attempt-status';
import type { Role } from '@tether/shared/roles';
import type { VopResult } from '../vop/result';

export const COLLECTIONS = ['one_off', 'recurring'] as const;
export type Collection = (typeof COLLECTIONS)[number];

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();
/** What sending a transaction to EMP once and reconciling it leaves on its row: the claim, when it left, when EMP was last asked. */
const sendingToEmp = () => ({
  claimedBy: text('claimed_by'),
  claimedAt: timestamp('claimed_at', { withTimezone: true }),
  sentAt: timestamp('sent_at', { withTimezone: true }),
  lastReconciledAt: timestamp('last_reconciled_at', { withTimezone: true }),
});

export const uploads = pgTable(
  'uploads',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    fileKey: text('file_key').notNull().unique(),
    originalName: text('original_name').notNull(),
    contentType: text('content_type'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    checksumSha256: char('checksum_sha256', { length: 64 }),
    /**
     * created → uploaded → queued → processing → completed | failed; a failed upload may go back
     * to uploaded to be processed again (uploads/recovery.ts); any but a processing one may be
     * withdrawn.
     */
    status: text('status')
      .$type<'created' | 'uploaded' | 'queued' | 'processing' | 'completed' | 'failed' | 'withdrawn'>()
      .notNull()
      .default('created'),
    columnMapping: jsonb('column_mapping').$type<Record<string, string>>(),
    /** From the file name. */
    format: text('format').$type<'csv' | 'xlsx'>(),
    /** CSV only: the operator's choice, else detected when the upload is completed. */
    encoding: text('encoding').$type<'utf-8' | 'windows-1252' | 'utf-16le' | 'utf-16be'>(),
    delimiter: text('delimiter').$type<',' | ';' | '\t'>(),
    /**
     * How its debtors are collected: one_off (an sdd_sale each time) or recurring (one SEPA
     * mandate collected again and again: sdd_init_recurring_sale first, sdd_recurring_sale after).
     */
    collection: text('collection').$type<Collection>().notNull().default('one_off'),
    rowsRead: integer('rows_read').notNull().default(0),
    rowsAccepted: integer('rows_accepted').notNull().default(0),
    rowsRejected: integer('rows_rejected').notNull().default(0),
    /** Last data row whose batch is committed: processing resumes after it. */
    committedRow: integer('committed_row').notNull().default(0),
    /** Bytes of the file read up to the committed row: progress while processing. */
    bytesRead: bigint('bytes_read', { mode: 'number' }).notNull().default(0),
    /** The run that processes the upload (node and run), while its lease lasts. */
    processingBy: text('processing_by'),
    /**
     * Until when that run holds the upload: it renews the lease while it works, so a dead node's
     * upload is free again soon after; no other run takes it before.
     */
    processingLeaseUntil: timestamp('processing_lease_until', { withTimezone: true }),
    errorReportKey: text('error_report_key'),
    error: text('error'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    /**
     * When the original file and the error report were deleted from storage: by the retention
     * sweep, a withdrawal or a debtor's erasure. The row, its counts and its attempts stay.
     */
    filesDeletedAt: timestamp('files_deleted_at', { withTimezone: true }),
  },
  (table) => [
    index('uploads_created_at_idx').on(table.createdAt),
    check('uploads_collection_known', sql`${table.collection} in ('one_off', 'recurring')`),
  ],
);

/** Rejected rows of an upload, committed with their batch; the error report is written from them. */
export const uploadErrors = pgTable(
  'upload_errors',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    uploadId: uuid('upload_id')
      .notNull()
      .references(() => uploads.id),
    /** Row number as a spreadsheet shows it (the header is row 1). */
    row: integer('row').notNull(),
    /** The column header as written in the file. */
    column: text('column').notNull(),
    value: text('value').notNull(),
    code: text('code').notNull(),
    message: text('message').notNull(),
  },
  (table) => [index('upload_errors_upload_row_idx').on(table.uploadId, table.row, table.id)],
);

export const debtors = pgTable(
  'debtors',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Electronic format: no spaces, upper case. */
    iban: text('iban').notNull(),
    bic: text('bic'),
    /** Transliterated to the SEPA character set; the original is kept for display. */
    name: text('name').notNull(),
    nameOriginal: text('name_original').notNull(),
    email: text('email'),
    address: jsonb('address').$type<Record<string, string>>(),
    mandateReference: text('mandate_reference'),
    mandateDate: date('mandate_date'),
    externalReference: text('external_reference'),
    uploadId: uuid('upload_id').references(() => uploads.id),
    /** Row number in the upload, for error reports and crash-safe resumption. */
    uploadRow: integer('upload_row'),
    createdAt: createdAt(),
    /** Set when the debtor's personal data was replaced by a pseudonym on request (GDPR Art. 17; personal-data/erasure.ts). */
    erasedAt: timestamp('erased_at', { withTimezone: true }),
  },
  (table) => [
    index('debtors_iban_idx').on(table.iban),
    uniqueIndex('debtors_upload_row_uq').on(table.uploadId, table.uploadRow),
  ],
);

/** A billing run: an operator's order to send a set of pending attempts to EMP (issue 6). */
export const billingRuns = pgTable(
  'billing_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** scheduled → running → paused ⇄ running → completed; cancelled from scheduled, running or paused. */
    status: text('status').$type<'scheduled' | 'running' | 'paused' | 'completed' | 'cancelled'>().notNull().default('running'),
    /** A scheduled run: when it starts by itself (its collection date). */
    scheduledFor: timestamp('scheduled_for', { withTimezone: true }),
    /**
     * Raised by every reschedule: each QStash wake-up carries the version it was published for, and
     * one for an older version (the run was rescheduled since) does nothing.
     */
    scheduleVersion: integer('schedule_version').notNull().default(0),
    /** What the operator chose: {uploadId} or {attemptIds}. */
    selection: jsonb('selection').$type<Record<string, unknown>>().notNull(),
    uploadId: uuid('upload_id').references(() => uploads.id),
    /** Attempts the run took on when it started. */
    attemptCount: integer('attempt_count').notNull().default(0),
    /** Who paused it, while paused: an operator, the circuit breaker after repeated EMP failures, or EMP refusing Tether's credentials. */
    pausedBy: text('paused_by').$type<'operator' | 'circuit_breaker' | 'emp_refused'>(),
    pauseReason: text('pause_reason'),
    /** The circuit breaker as this run last saw it. */
    breakerState: text('breaker_state').$type<'closed' | 'open' | 'half_open'>().notNull().default('closed'),
    /** Attempts by status when the run ended; live progress is counted from the attempts. */
    counts: jsonb('counts').$type<Record<string, number>>(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
    pausedAt: timestamp('paused_at', { withTimezone: true }),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true }),
  },
  (table) => [
    index('billing_runs_created_at_idx').on(table.createdAt),
    check('billing_runs_status_known', sql`${table.status} in ('scheduled', 'running', 'paused', 'completed', 'cancelled')`),
    index('billing_runs_scheduled_idx').on(table.scheduledFor).where(sql`${table.status} = 'scheduled'`),
  ],
);

export const billingAttempts = pgTable(
  'billing_attempts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Tether's stable id for this debit, sent as Genesis transaction_id (the idempotency reference). */
    transactionId: text('transaction_id').notNull().unique(),
    debtorId: bigint('debtor_id', { mode: 'number' })
      .notNull()
      .references(() => debtors.id),
    uploadId: uuid('upload_id').references(() => uploads.id),
    billingRunId: uuid('billing_run_id').references(() => billingRuns.id),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: char('currency', { length: 3 }).notNull().default('EUR'),
    status: text('status').$type<AttemptStatus>().notNull().default('pending'),
    /** Genesis unique_id, known once EMP has answered or notified (unique: see the partial index). */
    empUniqueId: text('emp_unique_id'),
    empStatus: text('emp_status'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /** 1 for the first debit; a retry of a soft decline is a new attempt with the next number. */
    attemptNumber: integer('attempt_number').notNull().default(1),
    retryOf: bigint('retry_of', { mode: 'number' }),
    /** The Genesis transaction type it was sent as (sdd_sale, sdd_init_recurring_sale, sdd_recurring_sale); set when claimed. */
    transactionType: text('transaction_type'),
    /** The recurring mandate it collects on, for an upload of recurring debtors. */
    mandateId: bigint('mandate_id', { mode: 'number' }),
    /** Every notification, chargeback and reconciliation answer that touched this attempt, oldest first. */
    history: jsonb('history').$type<Array<Record<string, unknown>>>().notNull().default(sql`'[]'::jsonb`),
    /** Why a pending attempt must not be sent until an operator releases it (e.g. vop_no_match). */
    holdReason: text('hold_reason'),
    /** Verification of Payee result, once checked: match | close_match | no_match | not_possible. */
    vopResult: text('vop_result').$type<VopResult>(),
    vopCheckedAt: timestamp('vop_checked_at', { withTimezone: true }),
    /** A retry of a soft decline is not sent before this. */
    notBefore: timestamp('not_before', { withTimezone: true }),
    ...sendingToEmp(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('billing_attempts_status_idx').on(table.status, table.updatedAt),
    index('billing_attempts_debtor_idx').on(table.debtorId),
    index('billing_attempts_upload_idx').on(table.uploadId),
    // Partial: an upload inserts attempts with neither a run nor a Genesis unique_id, and a full
    // btree would still take an entry for each NULL. Every lookup is by equality (`= $1`, `= any(…)`),
    // which implies `is not null`, so the planner still uses them.
    index('billing_attempts_run_status_idx').on(table.billingRunId, table.status).where(sql`${table.billingRunId} is not null`),
    uniqueIndex('billing_attempts_emp_unique_id_uq').on(table.empUniqueId).where(sql`${table.empUniqueId} is not null`),
    // One retry per attempt: retry scheduling may run on several nodes at once.
    uniqueIndex('billing_attempts_retry_of_uq').on(table.retryOf).where(sql`${table.retryOf} is not null`),
    check('billing_attempts_amount_positive', sql`${table.amountCents} > 0`),
  ],
);

/** Where an sdd_refund stands: Tether's steps to send it, then EMP's verdict. */
export const REFUND_STATUSES = ['pending', 'sending', 'unknown', 'submitted', 'approved', 'declined', 'error'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/**
 * Refunds of approved debits (issue 18), each an `sdd_refund` at EMP with its own stable
 * transaction_id, claimed here before it is sent (like a sale) and reconciled before any resend.
 * What a debit's refunds may add up to is checked with the attempt's row locked (refunds/request.ts).
 */
export const refunds = pgTable(
  'refunds',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    attemptId: bigint('attempt_id', { mode: 'number' })
      .notNull()
      .references(() => billingAttempts.id),
    /** Tether's id for this refund, sent as Genesis transaction_id. */
    transactionId: text('transaction_id').notNull().unique(),
    amountCents: bigint('amount_cents', { mode: 'number' }).notNull(),
    currency: char('currency', { length: 3 }).notNull(),
    status: text('status').$type<RefundStatus>().notNull().default('pending'),
    /** Genesis unique_id of the sdd_refund, once EMP answered. */
    empUniqueId: text('emp_unique_id'),
    empStatus: text('emp_status'),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    /** The operator's reason, required. */
    reason: text('reason').notNull(),
    requestedBy: text('requested_by').notNull(),
    ...sendingToEmp(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    index('refunds_attempt_idx').on(table.attemptId),
    // The settling sweep looks for refunds that still owe Tether or EMP a step.
    index('refunds_open_idx').on(table.status, table.updatedAt).where(sql`${table.status} in ('pending', 'sending', 'unknown', 'submitted')`),
    uniqueIndex('refunds_emp_unique_id_uq').on(table.empUniqueId).where(sql`${table.empUniqueId} is not null`),
    check('refunds_amount_positive', sql`${table.amountCents} > 0`),
    check('refunds_status_known', sql`${table.status} in ('pending', 'sending', 'unknown', 'submitted', 'approved', 'declined', 'error')`),
  ],
);

/**
 * A recurring SEPA mandate (issue 18): a debtor collected again and again. Keyed by the mandate
 * reference, or the IBAN where the file gave none. Its first successful collection (an
 * sdd_init_recurring_sale, SEPA sequence FRST) is remembered: every later debit is an
 * sdd_recurring_sale that references it (RCUR). A chargeback with a mandate code ends it.
 */
export const mandates = pgTable(
  'mandates',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mandateKey: text('mandate_key').notNull().unique(),
    /** awaiting_first (no collection approved yet) → active → ended. */
    status: text('status').$type<'awaiting_first' | 'active' | 'ended'>().notNull().default('awaiting_first'),
    /** The attempt sent as the series' first collection (sdd_init_recurring_sale). */
    firstAttemptId: bigint('first_attempt_id', { mode: 'number' }),
    /** Genesis unique_id of the approved first collection: the reference_id of every later one. */
    firstUniqueId: text('first_unique_id'),
    endedReasonCode: text('ended_reason_code'),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [check('mandates_status_known', sql`${table.status} in ('awaiting_first', 'active', 'ended')`)],
);

export const blacklist = pgTable(
  'blacklist',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The IBAN, until its debtor is erased: then a pseudonym, and `ibanHash` alone keeps it blocked. */
    iban: text('iban').notNull(),
    /**
     * HMAC-SHA-256 of the IBAN under PERSONAL_DATA_KEY (personal-data/keyed-hash.ts), hex: what
     * still matches the IBAN after erasure. Null only on entries written before it existed, which
     * still match by `iban`.
     */
    ibanHash: text('iban_hash'),
    reason: text('reason').notNull(),
    /** SEPA reason code (e.g. MD06) when a chargeback caused the entry. */
    reasonCode: text('reason_code'),
    /** 'chargeback' (automatic) or 'operator'. */
    source: text('source').notNull(),
    sourceEventId: bigint('source_event_id', { mode: 'number' }),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    removedAt: timestamp('removed_at', { withTimezone: true }),
    removedBy: text('removed_by'),
    removalReason: text('removal_reason'),
  },
  (table) => [
    // One active entry per IBAN; removed entries stay as the audit trail.
    uniqueIndex('blacklist_active_iban_uq').on(table.iban).where(sql`${table.removedAt} is null`),
    index('blacklist_active_iban_hash_idx').on(table.ibanHash).where(sql`${table.removedAt} is null`),
  ],
);

export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** The edge's deduplication key: the same event delivered twice has the same key. */
    dedupKey: text('dedup_key').notNull().unique(),
    uniqueId: text('unique_id'),
    transactionId: text('transaction_id'),
    /**
     * Genesis unique_id of the attempt's transaction: the notification's own for a status change,
     * the original's for a chargeback or refund. A pending_match event is matched by it.
     */
    attemptUniqueId: text('attempt_unique_id'),
    transactionType: text('transaction_type'),
    empStatus: text('emp_status'),
    payload: jsonb('payload').$type<Record<string, string>>().notNull(),
    traceId: text('trace_id'),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
    /** See events/outcome.ts: EMP's answers end applied, unchanged, …; notifications confirmed, rejected, … */
    outcome: text('outcome').notNull(),
    error: text('error'),
    billingAttemptId: bigint('billing_attempt_id', { mode: 'number' }).references(() => billingAttempts.id),
    attempts: integer('attempts').notNull().default(1),
    createdAt: createdAt(),
    /**
     * 'notification' for what EMP pushed (a trigger, never applied as it claims: confirmed with EMP
     * first), 'emp_api' for EMP's answers to Tether's own authenticated requests.
     */
    source: text('source').notNull().default('emp_api'),
    /** When the confirmer may next ask EMP about this notification (a lease, or a back-off after EMP failed). */
    confirmAfter: timestamp('confirm_after', { withTimezone: true }),
    /** EMP's answer the notification was judged by, as the API returned it. */
    empAnswer: jsonb('emp_answer').$type<Record<string, unknown>>(),
    /** The EMP answer event that carried the confirmed state onto the attempt. */
    effectEventId: bigint('effect_event_id', { mode: 'number' }),
    /** When the retention sweep reduced `payload` and `emp_answer` to their audit fields (personal-data/retention.ts). */
    payloadReducedAt: timestamp('payload_reduced_at', { withTimezone: true }),
  },
  (table) => [
    index('webhook_events_outcome_idx').on(table.outcome, table.receivedAt),
    index('webhook_events_unique_id_idx').on(table.uniqueId),
    index('webhook_events_transaction_id_idx').on(table.transactionId),
    // Matching looks up waiting events by the ids a new or newly identified attempt carries.
    index('webhook_events_pending_unique_id_idx')
      .on(table.attemptUniqueId)
      .where(sql`${table.outcome} = 'pending_match'`),
    index('webhook_events_pending_transaction_id_idx')
      .on(table.transactionId)
      .where(sql`${table.outcome} = 'pending_match'`),
    // The confirmer claims due notifications, oldest due first.
    index('webhook_events_awaiting_confirmation_idx')
      .on(table.confirmAfter, table.id)
      .where(sql`${table.outcome} = 'awaiting_confirmation'`),
  ],
);

/** People who run Tether from the dashboard. Created with `npm run tether -- operators:create <email>`. */
export const operators = pgTable('operators', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  /** Lower case: one account per address however it is typed. */
  email: text('email').notNull().unique(),
  /** argon2id, in the PHC string format (algorithm, parameters and salt included). */
  passwordHash: text('password_hash').notNull(),
  createdAt: createdAt(),
  lastLoginAt: timestamp('last_login_at', { withTimezone: true }),
  /** What the operator may do (shared/src/roles.ts). Accounts from before roles existed became admins: they could do everything. */
  role: text('role').$type<Role>().notNull().default('operator'),
  /** Set when an admin disables the account: it can no longer log in, and its sessions end at once. */
  disabledAt: timestamp('disabled_at', { withTimezone: true }),
}, (table) => [check('operators_role_known', sql`${table.role} in ('viewer', 'operator', 'admin')`)]);

/**
 * Logged-in browsers. The cookie carries a random token; only its SHA-256 is stored, so reading
 * this table does not let anyone log in. In the database, not in a node, so any node serves any request.
 */
export const operatorSessions = pgTable(
  'operator_sessions',
  {
    /** SHA-256 of the cookie's token, hex. */
    tokenHash: char('token_hash', { length: 64 }).primaryKey(),
    operatorId: bigint('operator_id', { mode: 'number' })
      .notNull()
      .references(() => operators.id, { onDelete: 'cascade' }),
    /** Forms and htmx requests must echo it: a page on another site cannot read it. */
    csrfToken: text('csrf_token').notNull(),
    createdAt: createdAt(),
    /** Moves forward while the session is used, never past created_at plus the maximum age. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('operator_sessions_operator_idx').on(table.operatorId), index('operator_sessions_expires_at_idx').on(table.expiresAt)],
);

/**
 * Failed log-ins by the email typed, as nodes before login_failure_events counted them. No longer
 * written; kept (a migration drops nothing) so older nodes still run during a rolling deploy.
 */
export const loginFailures = pgTable('login_failures', {
  email: text('email').primaryKey(),
  failures: integer('failures').notNull(),
  lastFailureAt: timestamp('last_failure_at', { withTimezone: true }).notNull(),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
});

/**
 * One row per failed log-in: the email typed (whether or not such an operator exists, so a
 * lock-out does not reveal which addresses have accounts) and the client's address. Kept here,
 * not in a node, so every node counts the same failures (auth/login-throttle.ts); rows older than
 * the longest window are purged as failures are recorded.
 */
export const loginFailureEvents = pgTable(
  'login_failure_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    email: text('email').notNull(),
    address: text('address').notNull(),
    failedAt: timestamp('failed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('login_failure_events_failed_at_idx').on(table.failedAt),
    index('login_failure_events_address_idx').on(table.address, table.failedAt),
    index('login_failure_events_email_address_idx').on(table.email, table.address, table.failedAt),
  ],
);

/**
 * Append-only record of every state-changing action by a person (issue 17; audit/record.ts writes
 * it in the action's own transaction). Nothing updates or deletes these rows; a trigger in the
 * migration refuses both.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actorKind: text('actor_kind').$type<'operator' | 'cli' | 'system'>().notNull(),
    /** No foreign key: the entry outlives the account. */
    actorOperatorId: bigint('actor_operator_id', { mode: 'number' }),
    /** The operator's email, the CLI's "os-user as email", or the system job's name, as it was then. */
    actorName: text('actor_name').notNull(),
    action: text('action').notNull(),
    targetKind: text('target_kind'),
    targetId: text('target_id'),
    before: jsonb('before').$type<Record<string, unknown>>(),
    after: jsonb('after').$type<Record<string, unknown>>(),
    reason: text('reason'),
  },
  (table) => [
    check('audit_log_actor_kind_known', sql`${table.actorKind} in ('operator', 'cli', 'system')`),
    index('audit_log_at_idx').on(table.at),
    index('audit_log_action_at_idx').on(table.action, table.at),
    index('audit_log_target_idx').on(table.targetKind, table.targetId),
    index('audit_log_actor_at_idx').on(table.actorOperatorId, table.at),
  ],
);

/**
 * An operator's decision on an item of a review queue (dashboard/pages/review.tsx): a dismissed or
 * acted-on item leaves its queue. One decision per item; who and why are also in the audit log.
 */
export const reviewDecisions = pgTable(
  'review_decisions',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Which queue (review/queues.ts) and the item's id there (an event's or an attempt's id). */
    queue: text('queue').notNull(),
    itemId: text('item_id').notNull(),
    /** dismissed: nothing to do; blacklisted: the debtor's IBAN was blacklisted from the queue. */
    decision: text('decision').$type<'dismissed' | 'blacklisted'>().notNull(),
    reason: text('reason'),
    decidedBy: text('decided_by').notNull(),
    decidedAt: timestamp('decided_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('review_decisions_item_uq').on(table.queue, table.itemId),
    check('review_decisions_decision_known', sql`${table.decision} in ('dismissed', 'blacklisted')`),
  ],
);

/**
 * Settings operators change at run time, one JSON value per key, each parsed with its zod schema
 * where it is read (retention: personal-data/retention-settings.ts). A missing key means the
 * documented default.
 */
export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').$type<Record<string, unknown>>().notNull(),
  updatedBy: text('updated_by'),
  updatedAt: updatedAt(),
});
