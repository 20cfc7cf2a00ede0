// The bindings global-setup.ts provides, as the tests see them through `cloudflare:workers`.
declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import('../src/worker');
  }
  interface Env {
    UPSTASH_REDIS_REST_URL: string;
    UPSTASH_REDIS_REST_TOKEN: string;
    QSTASH_URL: string;
    QSTASH_TOKEN: string;
    BACKEND_EVENTS_URL: string;
    EMP_API_PASSWORD: string;
    REDIS_KEY_PREFIX: string;
    /** The delivery sink (dev/delivery-sink.ts) standing in for the backend. */
    TEST_SINK_URL: string;
    /** A URL nothing listens on, for Redis or QStash being down. */
    TEST_UNUSED_URL: string;
  }
}
