/** @jsxRuntime automatic @jsxImportSource hono/jsx */
/**
 * Uploads: the form (pick a file, map its columns, watch it upload and process), the list, and
 * one upload's page with its progress, counts, first errors and downloads. The file goes from
 * the browser straight to storage through the presigned PUT of the upload API (POST /uploads);
 * these pages only render, and redirect downloads to their presigned GET URLs.
 */
import { maskIban, maskIbansInText } from '@tether/shared/mask';
import { Hono, type Context } from 'hono';
import type { FC } from 'hono/jsx';
import { DEBTOR_FIELDS, type ColumnMapping } from '@tether/shared/debtor-columns';
import { operatorActor } from '../../audit/actor';
import { requirePermission } from '../../auth/permissions';
import { DELIMITERS, type Delimiter } from '../../uploads/csv-dialect';
import { errorReportUrl, getUpload, originalFileUrl, UploadRequestError } from '../../uploads/lifecycle';
import { reprocessRefusal, reprocessUpload, storedColumns, withdrawUpload } from '../../uploads/recovery';
import type { UploadRecord } from '../../uploads/repository';
import { TEXT_ENCODINGS, type TextEncoding } from '../../uploads/text-inspection';
import { formatOf } from '../../uploads/file-types';
import { listUploads } from '../../uploads/repository';
import { uploadView } from '../../uploads/routes';
import { assetUrl } from '../assets';
import { Badge } from '../components/badge';
import { CsvMapping, XlsxHeaderMapping, XlsxMapping } from '../components/column-mapping';
import { ProgressBar } from '../components/progress';
import { PREVIEW_BYTES, previewCsvColumns } from '../column-preview';
import type { DashboardContext } from '../context';
import { formatBytes, formatCount, formatTime } from '../format';
import { firstUploadErrors } from '../queries/upload-errors';
import { isUuid } from '../parameters';
import { page } from '../render';
import { operatorMay } from '../../auth/permissions';

type UploadView = ReturnType<typeof uploadView>;

const FINISHED = ['completed', 'failed', 'withdrawn'];

/** `mayDownload`: the error report carries whole rows (IBANs, names), so only operators get it (auth/route-permissions.ts). */
const UploadProgress: FC<{ upload: UploadView; mayDownload: boolean }> = ({ upload, mayDownload }) => {
  const finished = FINISHED.includes(upload.status);
  return (
    <div
      id="upload-progress"
      class="panel"
      {...(finished ? {} : { 'hx-get': `/dashboard/uploads/${upload.id}/progress`, 'hx-trigger': 'every 1s', 'hx-swap': 'outerHTML' })}
    >
      <p>
        <Badge value={upload.status} /> {upload.error ? <span class="notice bad">{upload.error}</span> : null}
      </p>
      <ProgressBar share={upload.progress} state={upload.status === 'completed' ? 'done' : upload.status === 'failed' ? 'failed' : undefined} label="Processing" />
      <p>
        <strong data-count="read">{formatCount(upload.rows.read)}</strong> rows read, <strong data-count="accepted">{formatCount(upload.rows.accepted)}</strong>{' '}
        accepted, <strong data-count="rejected">{formatCount(upload.rows.rejected)}</strong> rejected
      </p>
      {upload.errorReportAvailable && mayDownload ? (
        <p>
          <a class="button secondary" href={`/dashboard/uploads/${upload.id}/error-report`} download>
            Download the error report
          </a>
        </p>
      ) : null}
    </div>
  );
};

const MAX_REASON = 500;
/** Statuses an upload can be withdrawn from (uploads/recovery.ts refuses the others too). */
const WITHDRAWABLE = ['created', 'uploaded', 'queued', 'completed', 'failed'];

/**
 * A failed upload: map its stored file's columns again (CSV or XLSX) and process it again; any
 * upload not being processed: withdraw it. Both need the operate permission.
 */
async function Recovery({ context, upload, notice }: { context: DashboardContext; upload: UploadRecord; notice?: string }) {
  const canReprocess = reprocessRefusal(upload) === undefined;
  const preview = canReprocess ? await storedColumns(context.uploads, upload.id) : undefined;
  const current = (upload.columnMapping ?? {}) as ColumnMapping;
  return (
    <div id="recovery">
      {notice ? (
        <p class="notice bad" role="status">
          {notice}
        </p>
      ) : null}
      {preview ? (
        <form class="panel" hx-post={`/dashboard/uploads/${upload.id}/reprocess`} hx-target="#recovery" hx-swap="outerHTML">
          <h2>Process again</h2>
          <p>
            <small>The stored file's header row, as Tether reads it. Choose the columns (and for a CSV the encoding and delimiter) and process the same file again.</small>
          </p>
          {!preview.ok ? (
            <p class="notice bad">{preview.problem}</p>
          ) : 'format' in preview ? (
            <XlsxHeaderMapping headers={preview.headers} selected={{ ...preview.suggested, ...current }} />
          ) : (
            <CsvMapping preview={{ ...preview, suggested: { ...preview.suggested, ...current } }} />
          )}
          <button type="submit">Process again</button>
        </form>
      ) : null}
      {WITHDRAWABLE.includes(upload.status) ? (
        <form class="panel" hx-post={`/dashboard/uploads/${upload.id}/withdraw`} hx-target="#recovery" hx-swap="outerHTML">
          <h2>Withdraw</h2>
          <p>
            <small>Cancels its billing attempts not yet sent (those already sent stay as they are) and deletes the file and the error report from storage.</small>
          </p>
          <div class="filters">
            <label>
              Reason
              <input name="reason" required minlength={3} maxlength={MAX_REASON} size={40} />
            </label>
            <button type="submit" class="danger">
              Withdraw
            </button>
          </div>
        </form>
      ) : null}
    </div>
  );
}

function mappingOf(form: Record<string, unknown>): ColumnMapping {
  const mapping: ColumnMapping = {};
  for (const field of DEBTOR_FIELDS) {
    const value = form[`map.${field}`];
    if (typeof value === 'string' && value.trim() !== '' && value.length <= 255) mapping[field] = value;
  }
  return mapping;
}

const choiceOf = <T extends string>(value: unknown, choices: readonly T[]): T | undefined =>
  typeof value === 'string' && (choices as readonly string[]).includes(value) ? (value as T) : undefined;

/** After an action: the page again (htmx follows HX-Redirect), or its refusal in place. */
async function recoveryAction(c: Context, context: DashboardContext, act: (id: string, form: Record<string, unknown>) => Promise<unknown>) {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) return c.text('No such upload', 404);
  const form = await c.req.parseBody();
  try {
    await act(id, form);
  } catch (error) {
    if (!(error instanceof UploadRequestError)) throw error;
    if (error.status === 404) return c.text(error.message, 404);
    return c.html(<Recovery context={context} upload={await getUpload(context.uploads, id)} notice={`Not done: ${error.message}`} />, 422);
  }
  c.header('HX-Redirect', `/dashboard/uploads/${id}`);
  return c.html(<p>Done.</p>);
}

async function viewOrNotFound(context: DashboardContext, id: string): Promise<UploadView | undefined> {
  if (!isUuid(id)) return undefined;
  try {
    return uploadView(await getUpload(context.uploads, id));
  } catch (error) {
    if (error instanceof UploadRequestError && error.status === 404) return undefined;
    throw error;
  }
}

/** A download: to the presigned URL, or back to the upload's page saying why there is none. */
async function redirectTo(c: Context, presign: (id: string) => Promise<{ url: string }>) {
  const id = c.req.param('id') ?? '';
  if (!isUuid(id)) return c.text('No such upload', 404);
  try {
    return c.redirect((await presign(id)).url, 302);
  } catch (error) {
    if (!(error instanceof UploadRequestError)) throw error;
    return c.text(error.message, error.status === 503 ? 503 : 404);
  }
}

export function uploadPages(context: DashboardContext) {
  return new Hono()
    .get('/dashboard/uploads', async (c) => {
      const uploads = (await listUploads(context.db, 100)).map(uploadView);
      return page(
        c,
        'Uploads',
        '/dashboard/uploads',
        <>
          <p hidden={!operatorMay(c, 'operate')}>
            <a class="button" href="/dashboard/uploads/new">
              Upload a file
            </a>
          </p>
          <table>
            <tr>
              <th>file</th>
              <th>status</th>
              <th class="num">size</th>
              <th class="num">rows</th>
              <th class="num">accepted</th>
              <th class="num">rejected</th>
              <th>by</th>
              <th>created</th>
            </tr>
            {uploads.map((upload) => (
              <tr>
                <td>
                  <a href={`/dashboard/uploads/${upload.id}`}>{upload.fileName}</a>
                </td>
                <td>
                  <Badge value={upload.status} />
                </td>
                <td class="num">{formatBytes(upload.sizeBytes)}</td>
                <td class="num">{formatCount(upload.rows.read)}</td>
                <td class="num">{formatCount(upload.rows.accepted)}</td>
                <td class="num">{formatCount(upload.rows.rejected)}</td>
                <td>{upload.createdBy ?? ''}</td>
                <td>{formatTime(upload.createdAt)}</td>
              </tr>
            ))}
          </table>
          {uploads.length === 0 ? <p class="empty">No uploads yet.</p> : null}
        </>,
      );
    })
    .get('/dashboard/uploads/new', (c) =>
      page(
        c,
        'Upload debtors',
        '/dashboard/uploads/new',
        <>
          <form id="upload-form" class="panel" data-preview-bytes={String(PREVIEW_BYTES)}>
            <label>
              CSV or XLSX file
              <input type="file" name="file" accept=".csv,.txt,.tsv,.xlsx" required />
            </label>
            <label>
              Debtors are collected
              <select name="collection">
                <option value="one_off">once each (sdd_sale)</option>
                <option value="recurring">again and again on a recurring mandate</option>
              </select>
            </label>
            <div id="column-mapping"></div>
            <button type="submit" disabled>
              Upload
            </button>
          </form>
          <div id="upload-status" class="panel" hidden>
            <p id="upload-phase" role="status"></p>
            <div class="progress">
              <div id="upload-bar"></div>
            </div>
            <p id="upload-result"></p>
          </div>
          <script src={assetUrl('upload.js')} defer></script>
        </>,
      ),
    )
    // At most the first PREVIEW_BYTES of the file: capped with every other body (http/body-caps.ts).
    .post('/dashboard/uploads/columns', async (c) => {
      const format = formatOf(c.req.query('name') ?? '');
      if (format === 'xlsx') return c.html(<XlsxMapping />);
      if (format !== 'csv') return c.html(<p class="notice bad">Only .csv (also .txt, .tsv) and .xlsx files can be uploaded.</p>, 422);
      const head = Buffer.from(await c.req.arrayBuffer());
      return c.html(<CsvMapping preview={previewCsvColumns(head)} />);
    })
    .get('/dashboard/uploads/:id', async (c) => {
      const upload = await viewOrNotFound(context, c.req.param('id'));
      if (!upload) return page(c, 'Upload not found', '/dashboard/uploads', <p>No such upload.</p>, 404);
      const errors = upload.rows.rejected > 0 ? await firstUploadErrors(context.db, upload.id) : [];
      return page(
        c,
        upload.fileName,
        '/dashboard/uploads',
        <>
          <p class="stat-label">
            {upload.format?.toUpperCase()} · {formatBytes(upload.sizeBytes)} · uploaded by {upload.createdBy ?? 'unknown'} on {formatTime(upload.createdAt)}
            {upload.checksumSha256 ? (
              <>
                {' '}
                · SHA-256 <code>{upload.checksumSha256.slice(0, 16)}…</code>
              </>
            ) : null}{' '}
            {operatorMay(c, 'operate') ? (
              <>
                · <a href={`/dashboard/uploads/${upload.id}/file`}>original file</a>{' '}
              </>
            ) : null}
            ·{' '}
            <a href={`/dashboard/attempts?upload=${upload.id}`}>billing attempts</a>
          </p>
          <UploadProgress upload={upload} mayDownload={operatorMay(c, 'operate')} />
          <Recovery context={context} upload={await getUpload(context.uploads, upload.id)} />
          {errors.length > 0 ? (
            <>
              <h2>First rejected rows</h2>
              <table>
                <tr>
                  <th class="num">row</th>
                  <th>column</th>
                  <th>value</th>
                  <th>problem</th>
                </tr>
                {errors.map((error) => (
                  <tr>
                    <td class="num">{error.row}</td>
                    <td>{error.column}</td>
                    <td class="mono">{error.code.startsWith('iban') ? maskIban(error.value) : maskIbansInText(error.value)}</td>
                    <td>{error.message}</td>
                  </tr>
                ))}
              </table>
            </>
          ) : null}
        </>,
      );
    })
    .get('/dashboard/uploads/:id/progress', async (c) => {
      const upload = await viewOrNotFound(context, c.req.param('id'));
      return upload ? c.html(<UploadProgress upload={upload} mayDownload={operatorMay(c, 'operate')} />) : c.notFound();
    })
    .post('/dashboard/uploads/:id/reprocess', requirePermission('operate'), (c) =>
      recoveryAction(c, context, (id, form) =>
        reprocessUpload(
          context.uploads,
          id,
          { columnMapping: mappingOf(form), encoding: choiceOf<TextEncoding>(form.encoding, TEXT_ENCODINGS), delimiter: choiceOf<Delimiter>(form.delimiter, DELIMITERS) },
          operatorActor(c.get('operator')),
        ),
      ),
    )
    .post('/dashboard/uploads/:id/withdraw', requirePermission('operate'), (c) =>
      recoveryAction(c, context, (id, form) => {
        const reason = typeof form.reason === 'string' ? form.reason.trim() : '';
        if (reason.length < 3 || reason.length > MAX_REASON) throw new UploadRequestError(422, `give a reason of 3 to ${MAX_REASON} characters`);
        return withdrawUpload(context.uploads, id, operatorActor(c.get('operator')), reason);
      }),
    )
    .get('/dashboard/uploads/:id/file', (c) => redirectTo(c, (id) => originalFileUrl(context.uploads, id)))
    .get('/dashboard/uploads/:id/error-report', (c) => redirectTo(c, (id) => errorReportUrl(context.uploads, id)));
}
