/**
 * The embedded defaults `npm start` runs on: local ports and development-only secrets for the
 * stand-ins. Each can be overridden by the environment (or a .env file); see .env.example.
 */
export const DEV_PORTS = {
  backend: 8080,
  edge: 8787,
  upstashRest: 8079,
  s3: 8078,
  qstash: 8077,
  genesis: 8076,
  embeddedPostgres: 54329,
} as const;

export const DEV_SECRETS = {
  upstashToken: 'dev-upstash-token',
  qstashToken: 'dev-qstash-token',
  qstashCurrentSigningKey: 'sig_dev_current',
  qstashNextSigningKey: 'sig_dev_next',
  s3AccessKeyId: 'S3RVER',
  s3SecretAccessKey: 'S3RVER',
  empTerminalToken: 'dev-terminal',
  empLogin: 'dev-login',
  empPassword: 'dev-password',
} as const;

export const DEV_BUCKET = 'tether';
export const DEV_DATA_DIRECTORY = '.data';
