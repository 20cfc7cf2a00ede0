import { describe, expect, it } from 'vitest';
import { ConfigError, parseEdgeConfig } from '../src/config';

const complete = {
  UPSTASH_REDIS_REST_URL: 'https://eu1-example.upstash.io',
  UPSTASH_REDIS_REST_TOKEN: 'redis-token',
  QSTASH_TOKEN: 'qstash-token',
  BACKEND_EVENTS_URL: 'https://api.example.com/qstash/emp-events',
  EMP_API_PASSWORD: 'current-password',
};

describe('edge configuration', () => {
  it('applies the defaults', () => {
    expect(parseEdgeConfig(complete)).toMatchObject({
      qstash: { url: 'https://qstash.upstash.io', retries: 3 },
      empApiPasswords: ['current-password'],
      dedupTtlSeconds: 86_400,
      maxNotificationBytes: 16_384,
      logLevel: 'info',
    });
  });

  it('accepts the next password during a rotation, and ignores an empty one', () => {
    expect(parseEdgeConfig({ ...complete, EMP_API_PASSWORD_NEXT: 'next' }).empApiPasswords).toEqual(['current-password', 'next']);
    expect(parseEdgeConfig({ ...complete, EMP_API_PASSWORD_NEXT: '' }).empApiPasswords).toEqual(['current-password']);
  });

  it('names every missing or wrong variable in one line, without values', () => {
    const attempt = () =>
      parseEdgeConfig({ ...complete, UPSTASH_REDIS_REST_TOKEN: undefined, QSTASH_URL: 'ftp://secret-host', DEDUP_TTL_SECONDS: 'soon' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      'edge configuration: UPSTASH_REDIS_REST_TOKEN is required; QSTASH_URL must be an http(s) URL; DEDUP_TTL_SECONDS must be a number',
    );
    expect(attempt).not.toThrow(/secret-host|\n/);
  });
});
