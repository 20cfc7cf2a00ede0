import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DEV_SECRETS } from '../../dev/stack/defaults';
import { ConfigError, loadConfig, redactUrl, SECRET_VARIABLES } from '../src/config';

const validEnv = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:8079',
  UPSTASH_REDIS_REST_TOKEN: 'token',
  QSTASH_TOKEN: 'token',
  QSTASH_CURRENT_SIGNING_KEY: 'current',
  QSTASH_NEXT_SIGNING_KEY: 'next',
  S3_BUCKET: 'tether',
  S3_ACCESS_KEY_ID: 'id',
  S3_SECRET_ACCESS_KEY: 'secret',
  EMP_TERMINAL_TOKEN: 'terminal',
  EMP_API_LOGIN: 'login',
  EMP_API_PASSWORD: 'password',
};

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(validEnv);
    expect(config.http.port).toBe(8080);
    expect(config.emp.rateLimitPerSecond).toBe(50);
    expect(config.emp.reconciliationRateLimitPerSecond).toBe(20);
    expect(config.chargebackBlacklistCodes).toContain('MD06');
    expect(config.chargebackBlacklistCodes).not.toContain('AM04');
  });

  it('names a missing variable in one line', () => {
    const { DATABASE_URL: _omitted, ...env } = validEnv;
    expect(() => loadConfig(env)).toThrow(new ConfigError('Invalid configuration: DATABASE_URL is required'));
  });

  it('treats an empty variable as missing', () => {
    expect(() => loadConfig({ ...validEnv, EMP_API_PASSWORD: '' })).toThrow(/EMP_API_PASSWORD is required/);
  });

  it('names every wrong variable', () => {
    const attempt = () => loadConfig({ ...validEnv, EMP_TIMEOUT: 'soon', DATABASE_URL: 'mysql://db' });
    expect(attempt).toThrow(/DATABASE_URL must be a URL/);
    expect(attempt).toThrow(/EMP_TIMEOUT must be a number/);
  });

  it('parses lists of reason codes', () => {
    expect(loadConfig({ ...validEnv, CHARGEBACK_BLACKLIST_CODES: ' md06, ac04 ' }).chargebackBlacklistCodes).toEqual([
      'MD06',
      'AC04',
    ]);
  });

  describe('in production', () => {
    const production = { ...validEnv, NODE_ENV: 'production', PUBLIC_URL: 'https://tether.example', PERSONAL_DATA_KEY: 'k'.repeat(32) };
    const repositoryFile = (name: string) => readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8');
    /** Every value of `NAME=value` lines, and of `NAME: value` and `${NAME:-value}` in docker-compose.yml. */
    const assignedValues = (text: string, names: readonly string[]) =>
      names.flatMap((name) =>
        [...text.matchAll(new RegExp(`(?:^|\\s|\\$\\{)${name}(?:=|: |:-)([^\\s}#$][^\\s}#]*)`, 'gm'))].map((match) => [name, match[1]!] as const),
      );
    const shipped = [
      ...Object.values(DEV_SECRETS).flatMap((value) => SECRET_VARIABLES.map((name) => [name, value] as const)),
      ...assignedValues(repositoryFile('.env.example'), SECRET_VARIABLES),
      ...assignedValues(repositoryFile('.dev.vars.example'), SECRET_VARIABLES),
      ...assignedValues(repositoryFile('docker-compose.yml'), [...SECRET_VARIABLES, 'MINIO_ROOT_PASSWORD']).map(
        ([name, value]) => [name === 'MINIO_ROOT_PASSWORD' ? 'S3_SECRET_ACCESS_KEY' : name, value] as const,
      ),
    ];

    it('accepts production secrets over https', () => {
      expect(loadConfig(production).environment).toBe('production');
    });

    it('needs a personal-data key of 32 characters or more, in one line naming it', () => {
      const { PERSONAL_DATA_KEY: _key, ...withoutKey } = production;
      expect(() => loadConfig(withoutKey)).toThrow(/^Invalid configuration: PERSONAL_DATA_KEY is required in production$/);
      expect(() => loadConfig({ ...production, PERSONAL_DATA_KEY: 'short' })).toThrow(
        /^Invalid configuration: PERSONAL_DATA_KEY must have at least 32 characters$/,
      );
      // Outside production a development key keys the hashes, so npm start and the tests need none.
      expect(loadConfig(validEnv).personalData.key).toMatch(/^dev-/);
    });

    it('finds the development secrets shipped in the repository', () => {
      expect(shipped.map(([, value]) => value)).toEqual(expect.arrayContaining(['dev-password', 'sig_dev_current', 'S3RVER', 'tether-secret']));
    });

    it('refuses every development secret shipped in the repository, in one line naming the variable', () => {
      for (const [name, value] of shipped) {
        const attempt = () => loadConfig({ ...production, [name]: value });
        expect(attempt, `${name}=${value}`).toThrow(ConfigError);
        expect(attempt, `${name}=${value}`).toThrow(new RegExp(`^Invalid configuration: ${name} is a development value`));
      }
      // The same values are fine outside production: npm start and the tests run on them.
      expect(loadConfig({ ...validEnv, EMP_API_PASSWORD: DEV_SECRETS.empPassword }).emp.password).toBe('dev-password');
    });

    it('requires an https PUBLIC_URL', () => {
      expect(() => loadConfig({ ...production, PUBLIC_URL: 'http://tether.example' })).toThrow(
        new ConfigError('Invalid configuration: PUBLIC_URL must be an https URL in production (session cookies are not Secure otherwise)'),
      );
      expect(() => loadConfig({ ...validEnv, NODE_ENV: 'production' })).toThrow(/^Invalid configuration: PUBLIC_URL must be an https URL/);
    });
  });

  it('redacts passwords from URLs it prints', () => {
    expect(redactUrl('postgres://tether:hunter2@db:5432/tether')).toBe('postgres://tether:***@db:5432/tether');
  });
});

describe('backend start-up', () => {
  const require = createRequire(import.meta.url);
  const run = (env: Record<string, string>) =>
    promisify(execFile)(process.execPath, [require.resolve('tsx/cli'), 'backend/src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 30_000,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => ({ code: error.code, stderr: error.stderr }),
    );

  it('fails with one line naming a missing secret', async () => {
    const { EMP_API_PASSWORD: _omitted, ...env } = validEnv;
    const result = await run(env);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('Invalid configuration: EMP_API_PASSWORD is required');
  });

  it('fails with one line when the database is unreachable, without its password', async () => {
    const result = await run({ ...validEnv, DATABASE_URL: 'postgres://tether:hunter2@127.0.0.1:1/tether', PORT: '0' });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Cannot prepare the database at DATABASE_URL \(postgres:\/\/tether:\*\*\*@127\.0\.0\.1:1\/tether\): /);
    expect(result.stderr).not.toContain('hunter2');
  });
});
