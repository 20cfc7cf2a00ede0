/** The EMP event's dedup key when a dead-lettered QStash body is a forwarded event. */
export function dedupKeyOfDeadLetter(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as { dedupKey?: unknown };
    return typeof parsed.dedupKey === 'string' ? parsed.dedupKey : undefined;
  } catch {
    return undefined;
  }
}
