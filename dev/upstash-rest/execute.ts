/**
 * Runs parsed commands on the one shared ioredis connection. ioredis pipelines everything it is
 * given on that connection, so concurrent requests never wait for each other's round trips.
 */
import { ReplyError, type Redis } from 'ioredis';
import type { RedisCommand } from './commands';

export type CommandOutcome = { result: unknown } | { error: string };

/** Redis refused the command; anything else (connection lost, timeout) is thrown as is. */
function toOutcome(error: unknown, result: unknown): CommandOutcome {
  if (!error) return { result };
  if (error instanceof ReplyError) return { error: (error as Error).message };
  throw error;
}

export async function runCommand(redis: Redis, command: RedisCommand): Promise<CommandOutcome> {
  try {
    return { result: await redis.callBuffer(command.name, ...command.args) };
  } catch (error) {
    return toOutcome(error, undefined);
  }
}

/** Non-atomic: other clients' commands may run in between, as on Upstash. */
export async function runPipeline(redis: Redis, commands: RedisCommand[]): Promise<CommandOutcome[]> {
  const pipeline = redis.pipeline();
  for (const command of commands) pipeline.callBuffer(command.name, ...command.args);
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, result]) => toOutcome(error, result));
}

/**
 * MULTI, the commands and EXEC written as one batch: ioredis never interleaves another caller's
 * command inside a batch, so transactions are safe on the shared connection. Returns the
 * per-command outcomes, or a single error when Redis discarded the whole transaction.
 */
export async function runTransaction(redis: Redis, commands: RedisCommand[]): Promise<CommandOutcome[] | { error: string }> {
  const [, ...queuedAndExec] = await runPipeline(redis, [{ name: 'MULTI', args: [] }, ...commands, { name: 'EXEC', args: [] }]);
  const exec = queuedAndExec.pop();
  if (exec && 'result' in exec && Array.isArray(exec.result)) {
    return exec.result.map((result: unknown) => (result instanceof Error ? { error: result.message } : { result }));
  }
  // EXECABORT alone does not say why; the command Redis refused to queue does.
  const cause = queuedAndExec.find((outcome) => 'error' in outcome) ?? exec;
  return { error: cause && 'error' in cause ? cause.error : 'ERR transaction aborted' };
}
