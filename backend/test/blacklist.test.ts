import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addToBlacklist,
  BlacklistRemovalRefused,
  findBlacklisted,
  isBlacklisted,
  removeFromBlacklist,
} from '../src/blacklist/blacklist';
import { createMigratedDatabase, type MigratedTestDatabase } from './support/database';
import { TEST_PERSONAL_DATA_KEY, testIban } from './support/events';
import { TEST_ACTOR } from './support/operators';
import { operatorActor } from '../src/audit/actor';

let database: MigratedTestDatabase;
beforeAll(async () => {
  database = await createMigratedDatabase();
});
afterAll(() => database.destroy());

describe('the blacklist', () => {
  it('adds an IBAN once, keeping the first cause', async () => {
    const iban = testIban();
    const spaced = iban.replace(/(.{4})/g, '$1 ').toLowerCase();
    const [first, ...others] = await Promise.all([
      addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban, reason: 'chargeback MD06', reasonCode: 'MD06', source: 'chargeback', sourceEventId: 41 }),
      addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban: spaced, reason: 'operator', source: 'operator', createdBy: 'ops@example.com' }),
      addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban, reason: 'chargeback AC04', reasonCode: 'AC04', source: 'chargeback', sourceEventId: 42 }),
    ]);
    const results = [first!, ...others];
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.entry.id)).size).toBe(1);
    expect(results[0]!.entry.iban).toBe(iban);
    expect(await isBlacklisted(database.db, TEST_PERSONAL_DATA_KEY, spaced)).toBe(true);
  });

  it('finds the listed IBANs among many', async () => {
    const listed = testIban();
    const clean = testIban();
    await addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban: listed, reason: 'test', source: 'operator' });
    const found = await findBlacklisted(database.db, TEST_PERSONAL_DATA_KEY, [listed, clean]);
    expect([...found.keys()]).toEqual([listed]);
    expect(await findBlacklisted(database.db, TEST_PERSONAL_DATA_KEY, [])).toEqual(new Map());
  });

  it('lifts an entry with an audit trail, after which the IBAN can be listed again', async () => {
    const iban = testIban();
    await addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban, reason: 'chargeback MS02', reasonCode: 'MS02', source: 'chargeback' });
    const removed = await removeFromBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban, reason: 'debtor paid' }, operatorActor({ id: 1, email: 'ops@example.com', role: 'operator' }));
    expect(removed).toMatchObject({ removedBy: 'ops@example.com', removalReason: 'debtor paid' });
    expect(await isBlacklisted(database.db, TEST_PERSONAL_DATA_KEY, iban)).toBe(false);
    expect((await addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban, reason: 'again', source: 'operator' })).created).toBe(true);
    expect(await removeFromBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban: testIban(), reason: 'y' }, TEST_ACTOR)).toBeUndefined();
  });

  it('lets only compliance lift a deceased or regulatory entry', async () => {
    const iban = testIban();
    await addToBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban, reason: 'chargeback MD07', reasonCode: 'MD07', source: 'chargeback' });
    await expect(removeFromBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban, reason: 'mistake' }, TEST_ACTOR)).rejects.toBeInstanceOf(
      BlacklistRemovalRefused,
    );
    expect(await removeFromBlacklist(database.db, TEST_PERSONAL_DATA_KEY, { iban, reason: 'checked', byCompliance: true }, TEST_ACTOR)).toBeDefined();
  });
});
