/** The AuditActor for each way a person reaches Tether. */
import { userInfo } from 'node:os';
import type { Operator } from '../auth/operators';
import type { AuditActor } from './record';

export function operatorActor(operator: Operator): AuditActor {
  return { kind: 'operator', operatorId: operator.id, email: operator.email };
}

/** The CLI acts as the operating-system user running it, and the operator it names, if any. */
export function cliActor(operator?: Operator): AuditActor {
  return { kind: 'cli', osUser: userInfo().username, ...(operator ? { operatorId: operator.id, email: operator.email } : {}) };
}

/** Tether acting on a rule an operator set (the retry policy starting a run, a retention sweep). */
export function systemActor(name: string): AuditActor {
  return { kind: 'system', name };
}
