/** Runs `task` every `intervalMs` (never overlapping) until the returned stop() resolves. */
export function repeat(task: () => Promise<void>, intervalMs: number, onError: (error: unknown) => void) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    timer = setTimeout(() => {
      running = task()
        .catch(onError)
        .finally(() => {
          if (!stopped) schedule();
        });
    }, intervalMs);
  };
  schedule();
  return async function stop(): Promise<void> {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
