/**
 * What can go wrong talking to Genesis, sorted by what the caller may do next. For a financial
 * request `outcome` is the question that matters:
 *   unknown   EMP may have processed it: reconcile before anything is resent;
 *   not_sent  it provably never reached EMP (no connection): resending is safe;
 *   rejected  EMP answered and refused it: nothing was processed.
 */
import type { GenesisErrorDetails } from '@tether/shared/genesis-xml';

export type GenesisFailureOutcome = 'unknown' | 'not_sent' | 'rejected';

export abstract class GenesisError extends Error {
  abstract readonly outcome: GenesisFailureOutcome;
}

/** No connection within the connect timeout (not sent), or no complete answer within the total timeout (unknown). */
export class GenesisTimeoutError extends GenesisError {
  override readonly name = 'GenesisTimeoutError';
  readonly outcome: GenesisFailureOutcome;

  constructor(
    readonly phase: 'connect' | 'response',
    readonly timeoutMs: number,
  ) {
    super(`Genesis: no ${phase === 'connect' ? 'connection' : 'complete answer'} within ${timeoutMs} ms`);
    this.outcome = phase === 'connect' ? 'not_sent' : 'unknown';
  }
}

/** The connection failed: before it was established (not sent) or while the request was under way (unknown). */
export class GenesisNetworkError extends GenesisError {
  override readonly name = 'GenesisNetworkError';

  constructor(
    readonly outcome: 'unknown' | 'not_sent',
    cause: Error,
  ) {
    super(`Genesis: network error (${(cause as NodeJS.ErrnoException).code ?? cause.message})`, { cause });
  }
}

/** A 5xx without a Genesis XML body, e.g. from a load balancer: EMP may or may not have processed the request. */
export class GenesisServerError extends GenesisError {
  override readonly name = 'GenesisServerError';
  readonly outcome = 'unknown';

  constructor(readonly status: number) {
    super(`Genesis: HTTP ${status} without a Genesis answer`);
  }
}

/** Any other answer that is not the Genesis XML expected for the request. */
export class GenesisResponseError extends GenesisError {
  override readonly name = 'GenesisResponseError';
  readonly outcome = 'unknown';

  constructor(
    detail: string,
    readonly status?: number,
  ) {
    super(`Genesis: unexpected answer${status === undefined ? '' : ` (HTTP ${status})`}: ${detail}`);
  }
}

/** Wrong API login or password (HTTP 401, code 110). */
export class GenesisAuthError extends GenesisError {
  override readonly name = 'GenesisAuthError';
  readonly outcome = 'rejected';

  constructor(
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(`Genesis: authentication failed (HTTP ${status}${code ? `, code ${code}` : ''})`);
  }
}

/** A reconcile or Chargeback API request refused with a Genesis error (bad input, invalid terminal…). */
export class GenesisRequestError extends GenesisError {
  override readonly name = 'GenesisRequestError';
  readonly outcome = 'rejected';

  constructor(readonly details: GenesisErrorDetails) {
    super(`Genesis: request refused (code ${details.code ?? '?'}: ${details.technicalMessage ?? details.message ?? 'no message'})`);
  }
}
