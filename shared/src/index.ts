export * from './mask';
export * from './notification';
export * from './signature';
