/**
 * Turns schema issues of an incoming request into the Genesis error a real gateway would give:
 * 320 for a missing argument, 340 for a well-formed but invalid value (a billing country outside
 * SEPA, an impossible date), 330 for anything malformed.
 */
import { GENESIS_ERROR_CODES as CODES } from '@tether/shared/genesis-codes';
import { genesisFieldName, type GenesisErrorDetails } from '@tether/shared/genesis-xml';
import { MESSAGES } from './messages';

/** The part of a zod issue this needs; shared and dev each have their own zod copy. */
interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
}

function valueAt(fields: unknown, path: readonly PropertyKey[]): unknown {
  let value = fields;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

export function inputError(code: string, technicalMessage: string, transactionId?: unknown): GenesisErrorDetails {
  return {
    code,
    message: MESSAGES.inputError,
    technicalMessage,
    transactionId: typeof transactionId === 'string' ? transactionId : undefined,
  };
}

export function validationError(issues: readonly Issue[], fields: Record<string, unknown>): GenesisErrorDetails {
  const issue = issues[0]!;
  const name = genesisFieldName(issue.path);
  const custom = issue.code === 'custom';
  if (valueAt(fields, issue.path) === undefined) {
    return inputError(CODES.missingArgument, custom ? issue.message : `${name} is missing`, fields.transactionId);
  }
  if (custom || issue.code === 'invalid_value') {
    return inputError(CODES.invalidValue, custom ? `${name} ${issue.message}` : `${name} is invalid`, fields.transactionId);
  }
  return inputError(CODES.formatError, `${name} has an invalid format`, fields.transactionId);
}
