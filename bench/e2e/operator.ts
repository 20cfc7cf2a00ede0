/**
 * An operator as the harness's client of the dashboard API: logged in through the load
 * balancer like a browser (session cookie and CSRF token), uploading files and starting runs.
 */
import { randomBytes } from 'node:crypto';
import { systemActor } from '../../backend/src/audit/actor';
import { createOperator } from '../../backend/src/auth/operators';
import { logIn, type SessionClient } from '../../backend/test/support/operators';
import { waitUntil } from '../support/processes';
import type { E2EStack } from './stack';

export interface UploadView {
  id: string;
  status: string;
  rows: { read: number; accepted: number; rejected: number };
  error: string | null;
}

export class Operator {
  private constructor(private readonly session: SessionClient) {}

  static async logIn(stack: E2EStack): Promise<Operator> {
    const email = `e2e-${randomBytes(4).toString('hex')}@tether.test`;
    const password = `pw-${randomBytes(12).toString('base64url')}`;
    await createOperator(stack.database.db, { email, password, role: 'operator' }, systemActor('e2e'));
    return new Operator(await logIn(stack.urls.balancer, { email, password }));
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const response = await this.session.fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as T };
  }

  /** Creates an upload, puts the file to its presigned URL and completes it; the upload's id. */
  async upload(fileName: string, content: Buffer): Promise<string> {
    const created = await this.api<{ upload: UploadView; put: { url: string; headers: Record<string, string> } }>('POST', '/uploads', { fileName, sizeBytes: content.length });
    if (created.status !== 201) throw new Error(`POST /uploads answered ${created.status}: ${JSON.stringify(created.json)}`);
    const put = await fetch(created.json.put.url, { method: 'PUT', headers: created.json.put.headers, body: content });
    if (!put.ok) throw new Error(`PUT of ${fileName} answered ${put.status}`);
    const completed = await this.api<{ upload: UploadView }>('POST', `/uploads/${created.json.upload.id}/complete`);
    if (completed.status >= 500) throw new Error(`completing ${fileName} answered ${completed.status}`);
    return created.json.upload.id;
  }

  async uploadState(id: string): Promise<UploadView> {
    return (await this.api<{ upload: UploadView }>('GET', `/uploads/${id}`)).json.upload;
  }

  /** Waits until the upload is completed or failed. */
  async uploadSettled(id: string, timeoutMs: number): Promise<UploadView> {
    let state: UploadView | undefined;
    await waitUntil(async () => ['completed', 'failed'].includes((state = await this.uploadState(id)).status), timeoutMs, `upload ${id} processed`, 250);
    return state!;
  }

  async startRun(uploadId: string): Promise<string> {
    const started = await this.api<{ run: { id: string } }>('POST', '/billing/runs', { uploadId });
    if (started.status !== 201) throw new Error(`POST /billing/runs answered ${started.status}: ${JSON.stringify(started.json)}`);
    return started.json.run.id;
  }

  /** A reconciliation pass on demand: POST /reconciliation/runs, the same pass as the CLI's reconcile:run. */
  async reconcile(): Promise<void> {
    const answer = await this.api('POST', '/reconciliation/runs', {});
    if (answer.status !== 200) throw new Error(`POST /reconciliation/runs answered ${answer.status}: ${JSON.stringify(answer.json)}`);
  }

  async runSettled(runId: string, timeoutMs: number): Promise<{ status: string; counts?: Record<string, number> }> {
    let run: { status: string } | undefined;
    await waitUntil(
      async () => ['completed', 'cancelled'].includes((run = (await this.api<{ run: { status: string } }>('GET', `/billing/runs/${runId}`)).json.run).status),
      timeoutMs,
      `billing run ${runId} completed`,
      250,
    );
    return run!;
  }
}
