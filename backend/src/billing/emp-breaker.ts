/**
 * The circuit breaker in front of EMP's sale endpoint, one per process (cockatiel). It opens
 * after consecutive failures without a Genesis answer (timeouts, 5xx, broken connections), lets
 * one probe through after `halfOpenAfterMs`, and closes when the probe gets an answer. A
 * decline or a refusal is an answer: EMP is working.
 *
 * While it is open, calls fail at once with BrokenCircuitError: such a request never left.
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { GenesisError } from '../emp/errors';

export type BreakerState = 'closed' | 'open' | 'half_open';

export { BrokenCircuitError };

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'open',
};

/** EMP did not answer: the failures that count towards opening. */
function isEmpFailure(error: unknown): boolean {
  return error instanceof GenesisError && error.outcome !== 'rejected';
}

export class EmpCircuitBreaker {
  private readonly policy: CircuitBreakerPolicy;
  private lastFailureText: string | undefined;

  constructor(settings: { consecutiveFailures: number; halfOpenAfterMs: number }) {
    this.policy = circuitBreaker(handleWhen(isEmpFailure), {
      halfOpenAfter: settings.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(settings.consecutiveFailures),
    });
    this.policy.onFailure(({ reason }) => {
      if ('error' in reason) this.lastFailureText = reason.error instanceof Error ? reason.error.message : String(reason.error);
    });
  }

  get state(): BreakerState {
    return STATE_NAMES[this.policy.state];
  }

  /** Why it opened, for the run's pause reason. */
  get reason(): string {
    return `EMP circuit breaker open: ${this.lastFailureText ?? 'repeated failures'}`;
  }

  execute<T>(call: () => Promise<T>): Promise<T> {
    return this.policy.execute(call);
  }

  onBreak(listener: () => void): void {
    this.policy.onBreak(listener);
  }

  onReset(listener: () => void): void {
    this.policy.onReset(listener);
  }
}
