import { describe, expect, it } from 'vitest';
import { signNotification, verifyNotificationSignature } from '../src/signature';

// Vectors from emp-genesis.md §5.3 (the first two from the Genesis .NET SDK specs).
const vectors = [
  {
    id: 'fc6c3c8c0219730c7a099eaa540f70dc',
    password: 'bogus',
    algorithm: 'SHA-1',
    signature: '08d01ae1ebdc22b6a1a764257819bb26e9e94e8d',
  },
  {
    id: '26aa150ee68b1b2d6758a0e6c44fce4c',
    password: '50fd87e65eb415f42fb5af4c9cf497662e00b785',
    algorithm: 'SHA-512',
    signature:
      'c5219b3d385e74496b2b48a5497b347e102849f10eacd25b062f823bbd11249ce4e233f031c0ecebc9b691e69d23eb0c1cd65a79621152467b56ac2bf103b512',
  },
  {
    id: 'fc6c3c8c0219730c7a099eaa540f70dc',
    password: 'bogus',
    algorithm: 'SHA-256',
    signature: 'e7a962beef3684bc085001a5454b8bde100d4770263765b39cab602dd015e5cd',
  },
] as const;

describe('Genesis notification signatures', () => {
  it.each(vectors)('sign $algorithm as the SDKs do', async ({ id, password, algorithm, signature }) => {
    expect(await signNotification(id, password, algorithm)).toBe(signature);
  });

  it.each(vectors)('verify $algorithm, choosing the hash by length', async ({ id, password, signature }) => {
    expect(await verifyNotificationSignature(id, signature, [password])).toBe(true);
    expect(await verifyNotificationSignature(id, signature.toUpperCase(), [password])).toBe(true);
  });

  it('accept either password during a rotation', async () => {
    const { id, password, signature } = vectors[0];
    expect(await verifyNotificationSignature(id, signature, ['new-password', password])).toBe(true);
  });

  it('treat the password as case-sensitive', async () => {
    const { id, signature } = vectors[1];
    expect(await verifyNotificationSignature(id, signature, ['50Fd87e65eb415f42fb5af4c9cf497662e00b785'])).toBe(false);
  });

  it.each([
    ['another id', 'fc6c3c8c0219730c7a099eaa540f70dd', vectors[0].signature],
    ['a truncated signature', vectors[0].id, vectors[0].signature.slice(0, 39)],
    ['a non-hex signature', vectors[0].id, 'z'.repeat(40)],
    ['an empty signature', vectors[0].id, ''],
  ])('reject %s', async (_case, id, signature) => {
    expect(await verifyNotificationSignature(id, signature, ['bogus'])).toBe(false);
  });

  it('reject everything when no password is configured', async () => {
    expect(await verifyNotificationSignature(vectors[0].id, vectors[0].signature, [])).toBe(false);
  });
});
