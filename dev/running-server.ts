// The stand-ins listen the way a backend node does; one helper serves both.
import { listen } from '../backend/src/http/listen';

export { listen, type FetchHandler, type RunningServer } from '../backend/src/http/listen';

/** A port nothing listens on right now (the OS picks it), for a child process to take. */
export async function freePort(): Promise<number> {
  const probe = await listen(() => new Response());
  await probe.close();
  return probe.port;
}
