// The stand-ins listen the way a backend node does; one helper serves both.
export { listen, type FetchHandler, type RunningServer } from '../backend/src/http/listen';
