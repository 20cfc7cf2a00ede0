import { describe, expect, it } from 'vitest';
import {
  GenesisXmlError,
  buildChargebackXml,
  buildChargebacksByDateXml,
  buildGenesisResponseXml,
  buildReconcileByDateXml,
  buildReconcileXml,
  buildSddSaleXml,
  chargebacksByDateRequestSchema,
  parseGenesisDate,
  parseGenesisResponse,
  parseNotificationEcho,
  readGenesisXml,
  reconcileByDateRequestSchema,
  sddSaleRequestSchema,
  type GenesisResponse,
  type SddSaleRequest,
} from '../src/genesis-xml';
import { notificationEcho } from '../src/notification';

// emp-genesis.md §2.1 (D-SEPA request example)
const SPEC_SALE_REQUEST = `<?xml version="1.0" encoding="UTF-8"?>
<payment_transaction>
  <transaction_type>sdd_sale</transaction_type>
  <transaction_id>119643250547501c79d8295</transaction_id>
  <usage>40208 concert tickets</usage>
  <remote_ip>245.253.2.12</remote_ip>
  <amount>100</amount>
  <currency>EUR</currency>
  <iban>DE09100100101234567891</iban>
  <bic>PBNKDEFFXXX</bic>
  <billing_address>
    <first_name>Travis</first_name>
    <last_name>Pastrana</last_name>
    <country>DE</country>
  </billing_address>
</payment_transaction>`;

const SPEC_SALE: SddSaleRequest = {
  transactionId: '119643250547501c79d8295',
  usage: '40208 concert tickets',
  remoteIp: '245.253.2.12',
  amount: 100,
  currency: 'EUR',
  iban: 'DE09100100101234567891',
  bic: 'PBNKDEFFXXX',
  billingAddress: { firstName: 'Travis', lastName: 'Pastrana', country: 'DE' },
};

// emp-genesis.md §2.2 (D-SEPA success example)
const SPEC_SALE_RESPONSE = `<payment_response>
  <transaction_type>sdd_sale</transaction_type>
  <status>approved</status>
  <mode>live</mode>
  <transaction_id>119643250547501c79d8295</transaction_id>
  <unique_id>44177a21403427eb96664a6d7e5d5d48</unique_id>
  <technical_message>Transaction successful!</technical_message>
  <message>Transaction successful!</message>
  <timestamp>2023-03-06T16:33:10Z</timestamp>
  <descriptor>Descriptor one</descriptor>
  <amount>100</amount>
  <currency>EUR</currency>
  <sent_to_acquirer>true</sent_to_acquirer>
</payment_response>`;

// emp-genesis.md §2.2 (PHP fixture ReconcileErrorStatus.xml)
const SPEC_REFERENCE_ERROR = `<payment_response>
  <transaction_type>refund</transaction_type>
  <status>error</status>
  <unique_id>1234567890</unique_id>
  <transaction_id>987654321</transaction_id>
  <code>440</code>
  <technical_message>amount exceeds amount of reference transaction</technical_message>
  <message>Something went wrong, please contact support!</message>
  <mode>test</mode>
  <timestamp>2024-04-23T09:06:09Z</timestamp>
  <descriptor>test</descriptor>
  <amount>5000</amount>
  <currency>EUR</currency>
  <sent_to_acquirer>false</sent_to_acquirer>
  <reference_transaction_unique_id>abc1234567890</reference_transaction_unique_id>
</payment_response>`;

// emp-genesis.md §4.1 (NET mock)
const SPEC_NOT_FOUND = `<payment_response><status>error</status><message>Something went wrong, please contact support!</message>
<code>460</code><technical_message>Transaction with the given unique ID cannot be found!</technical_message></payment_response>`;

// emp-genesis.md §4.2 (NET mock; its counts are inconsistent on purpose)
const SPEC_RECONCILE_PAGE = `<?xml version="1.0" encoding="UTF-8"?>
<payment_responses per_page="100" page="2" total_count="19" pages_count="7">
  <payment_response>
    <transaction_type>sale</transaction_type><status>approved</status>
    <unique_id>130319cfb3bf65ff3c4a4045487b174f</unique_id>
    <transaction_id>EFBFBC7D-82CD-4375-9A69-15F19C88A134</transaction_id>
    <technical_message>Transaction successful!</technical_message><message>Transaction successful!</message>
    <mode>live</mode><timestamp>2014-01-05T15:04:00Z</timestamp><descriptor>descriptor one</descriptor>
    <amount>500</amount><currency>USD</currency><sent_to_acquirer>true</sent_to_acquirer>
  </payment_response>
</payment_responses>`;

// emp-genesis.md §6.2 (PHP fixture DateRange.xml, one record)
const SPEC_CHARGEBACK_PAGE = `<chargeback_responses page="1" per_page="100" total_count="12" pages_count="1">
  <chargeback_response>
    <type>1st chargeback</type>
    <arn>xxxxxxxxxxxx</arn>
    <post_date>1970-01-01</post_date>
    <reason_code>10.5</reason_code>
    <reason_description>Visa Fraud Monitoring Program</reason_description>
    <authorization_code>1</authorization_code><batch_number>eMP</batch_number><cnn/>
    <amount>10</amount><currency>USD</currency>
    <chargeback_amount>10</chargeback_amount><chargeback_currency>USD</chargeback_currency>
    <original_transaction_amount>14625.0</original_transaction_amount><original_transaction_currency>USD</original_transaction_currency>
    <original_type>Purchase</original_type><original_post_date>1970-01-01</original_post_date>
    <original_transaction_date>1970-01-01</original_transaction_date>
    <customer_email>email@example.com</customer_email><customer_phone>123456789</customer_phone>
    <transaction_type>sale</transaction_type>
    <original_transaction_unique_id>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</original_transaction_unique_id>
  </chargeback_response>
</chargeback_responses>`;

// emp-genesis.md §6.2 (NET mock)
const SPEC_CHARGEBACK_NOT_FOUND = `<chargeback_response><status>error</status><code>470</code><message>Chargeback not found!</message><technical_message>Chargeback by the given criteria cannot be found!</technical_message></chargeback_response>`;

describe('sdd_sale request', () => {
  it('builds the spec example and reads it back to the same request', () => {
    const xml = buildSddSaleXml(SPEC_SALE);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<payment_transaction>')).toBe(true);
    expect(xml).toContain('  <transaction_type>sdd_sale</transaction_type>');
    expect(xml).toContain('<amount>100</amount>');
    expect(xml).toContain('<billing_address>\n    <first_name>Travis</first_name>');

    const document = readGenesisXml(xml);
    expect(document.root).toBe('payment_transaction');
    expect(document.fields.transactionType).toBe('sdd_sale');
    expect(sddSaleRequestSchema.parse(document.fields)).toEqual(SPEC_SALE);
  });

  it('reads the spec request as the gateway validates it', () => {
    const { fields } = readGenesisXml(SPEC_SALE_REQUEST);
    expect(sddSaleRequestSchema.parse(fields)).toEqual(SPEC_SALE);
  });

  it('escapes text and leaves out absent and empty fields', () => {
    const xml = buildSddSaleXml({ ...SPEC_SALE, usage: 'Gym & <spa> "plus"', bic: undefined, companyName: '' });
    expect(xml).toContain('<usage>Gym &amp; &lt;spa&gt; &quot;plus&quot;</usage>');
    expect(xml).not.toContain('<bic>');
    expect(xml).not.toContain('company_name');
    expect(readGenesisXml(xml).fields.usage).toBe('Gym & <spa> "plus"');
  });

  it('refuses amounts that are not positive integers in minor units', () => {
    expect(() => buildSddSaleXml({ ...SPEC_SALE, amount: 12.5 })).toThrow(RangeError);
    expect(() => buildSddSaleXml({ ...SPEC_SALE, amount: 0 })).toThrow(RangeError);
  });

  it('keeps leading zeros of ids', () => {
    const { fields } = readGenesisXml(buildSddSaleXml({ ...SPEC_SALE, transactionId: '000123' }));
    expect(fields.transactionId).toBe('000123');
  });

  it('reports the billing country outside the SEPA list and a missing IBAN as issues on their paths', () => {
    const { fields } = readGenesisXml(
      SPEC_SALE_REQUEST.replace('<country>DE</country>', '<country>US</country>').replace(/<iban>.*<\/iban>/, '<iban></iban>'),
    );
    const result = sddSaleRequestSchema.safeParse(fields);
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['iban', 'billingAddress.country']));
  });
});

describe('reconcile and chargeback requests', () => {
  it('builds a single reconcile by unique_id or transaction_id', () => {
    expect(buildReconcileXml({ uniqueId: '44177a21403427eb96664a6d7e5d5d48' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<reconcile>\n  <unique_id>44177a21403427eb96664a6d7e5d5d48</unique_id>\n</reconcile>\n',
    );
    expect(readGenesisXml(buildReconcileXml({ transactionId: '007' })).fields).toEqual({ transactionId: '007' });
  });

  it('builds a reconcile by date with a page and reads it back', () => {
    const xml = buildReconcileByDateXml({ startDate: '2026-11-01', endDate: '2026-11-28', page: 2 });
    expect(xml).toContain('<start_date>2026-11-01</start_date>');
    expect(xml).toContain('<page>2</page>');
    expect(reconcileByDateRequestSchema.parse(readGenesisXml(xml).fields)).toEqual({
      startDate: '2026-11-01',
      endDate: '2026-11-28',
      page: 2,
    });
  });

  it('builds chargeback requests, single and by date', () => {
    expect(readGenesisXml(buildChargebackXml({ originalTransactionUniqueId: 'abc', mode: 'list' }))).toEqual({
      root: 'chargeback_request',
      fields: { originalTransactionUniqueId: 'abc', mode: 'list' },
    });
    const byDate = buildChargebacksByDateXml({ startDate: '2026-11-01', endDate: '2026-11-30', scope: 'card_not_present', page: 3, perPage: 100 });
    expect(byDate).toContain('<per_page>100</per_page>');
    expect(chargebacksByDateRequestSchema.parse(readGenesisXml(byDate).fields)).toMatchObject({ page: 3, perPage: 100 });
  });

  // The reference's Chargebacks by date: start_date and scope required; import_date optional.
  it('requires start_date and a documented scope on chargebacks by date', () => {
    expect(chargebacksByDateRequestSchema.safeParse({ endDate: '2026-11-30', scope: 'external' }).success).toBe(false);
    expect(chargebacksByDateRequestSchema.safeParse({ startDate: '2026-11-01' }).success).toBe(false);
    expect(chargebacksByDateRequestSchema.safeParse({ startDate: '2026-11-01', scope: 'all' }).success).toBe(false);
    expect(chargebacksByDateRequestSchema.safeParse({ startDate: '2026-11-01', importDate: '2026-11-02', scope: 'card_not_present' }).success).toBe(true);
  });

  it('reads Genesis dates with and without a time, and refuses impossible ones', () => {
    expect(parseGenesisDate('2026-11-01')).toEqual({ date: new Date('2026-11-01T00:00:00Z'), hasTime: false });
    expect(parseGenesisDate('2026-11-01 13:45:00')).toEqual({ date: new Date('2026-11-01T13:45:00Z'), hasTime: true });
    expect(parseGenesisDate('2026-02-30')).toBeUndefined();
    expect(parseGenesisDate('01.11.2026')).toBeUndefined();
  });
});

describe('responses', () => {
  it('reads the spec sale response with typed amount and boolean and string ids', () => {
    expect(parseGenesisResponse(SPEC_SALE_RESPONSE)).toEqual({
      kind: 'payment',
      payment: {
        transactionType: 'sdd_sale',
        status: 'approved',
        mode: 'live',
        transactionId: '119643250547501c79d8295',
        uniqueId: '44177a21403427eb96664a6d7e5d5d48',
        technicalMessage: 'Transaction successful!',
        message: 'Transaction successful!',
        timestamp: '2023-03-06T16:33:10Z',
        descriptor: 'Descriptor one',
        amount: 100,
        currency: 'EUR',
        sentToAcquirer: true,
      },
    });
  });

  it('reads a transaction in status error as a payment, with its code', () => {
    const response = parseGenesisResponse(SPEC_REFERENCE_ERROR);
    expect(response.kind).toBe('payment');
    if (response.kind !== 'payment') return;
    expect(response.payment).toMatchObject({
      status: 'error',
      code: '440',
      uniqueId: '1234567890',
      transactionId: '987654321',
      amount: 5000,
      sentToAcquirer: false,
      referenceTransactionUniqueId: 'abc1234567890',
    });
  });

  it('reads a refused request as an error with code and both messages', () => {
    expect(parseGenesisResponse(SPEC_NOT_FOUND)).toEqual({
      kind: 'error',
      root: 'payment_response',
      error: {
        code: '460',
        message: 'Something went wrong, please contact support!',
        technicalMessage: 'Transaction with the given unique ID cannot be found!',
      },
    });
    const validation = parseGenesisResponse(
      '<payment_response><status>error</status><message>Please check input data for errors!</message><code>340</code><technical_message>start_date has an invalid format</technical_message></payment_response>',
    );
    expect(validation).toMatchObject({ kind: 'error', error: { code: '340' } });
  });

  it('keeps codes such as 000 as strings', () => {
    const response = parseGenesisResponse(
      '<payment_response><status>approved</status><unique_id>u</unique_id><transaction_id>000123</transaction_id><code>000</code></payment_response>',
    );
    expect(response).toMatchObject({ kind: 'payment', payment: { transactionId: '000123', code: '000' } });
  });

  it('reads a by-date page with its four pagination attributes, trusting them as given', () => {
    const response = parseGenesisResponse(SPEC_RECONCILE_PAGE);
    expect(response.kind).toBe('payments');
    if (response.kind !== 'payments') return;
    expect(response.pagination).toEqual({ page: 2, perPage: 100, totalCount: 19, pagesCount: 7 });
    expect(response.payments).toHaveLength(1);
    expect(response.payments[0]).toMatchObject({ transactionId: 'EFBFBC7D-82CD-4375-9A69-15F19C88A134', amount: 500 });
  });

  it('reads an empty page', () => {
    expect(parseGenesisResponse('<payment_responses per_page="100" page="1" total_count="0" pages_count="0"/>')).toEqual({
      kind: 'payments',
      pagination: { page: 1, perPage: 100, totalCount: 0, pagesCount: 0 },
      payments: [],
    });
  });

  it('reads chargeback pages, single chargebacks and the not-found error', () => {
    const page = parseGenesisResponse(SPEC_CHARGEBACK_PAGE);
    expect(page.kind).toBe('chargebacks');
    if (page.kind !== 'chargebacks') return;
    expect(page.pagination).toEqual({ page: 1, perPage: 100, totalCount: 12, pagesCount: 1 });
    expect(page.chargebacks[0]).toMatchObject({
      type: '1st chargeback',
      reasonCode: '10.5',
      amount: 10,
      // A decimal in major units (docs/genesis-protocol.md (a)): 14625.0 USD is 1,462,500 cents.
      originalTransactionAmount: 1462500,
      postDate: '1970-01-01',
      originalTransactionUniqueId: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    });

    const single = parseGenesisResponse('<chargeback_response><type>1st chargeback</type><reason_code>AM04</reason_code></chargeback_response>');
    expect(single).toEqual({ kind: 'chargeback', chargeback: { type: '1st chargeback', reasonCode: 'AM04' } });

    // The reference's record (dev/genesis/fixtures/ref-chargeback-single-response.xml): a negative
    // amount in minor units, the issuer's amounts in major units.
    const referenced = parseGenesisResponse(
      '<chargeback_response><type>1st Chargeback</type><amount>-14625</amount><currency>USD</currency>' +
        '<chargeback_amount>300.0</chargeback_amount><original_transaction_amount>148.0</original_transaction_amount></chargeback_response>',
    );
    expect(referenced).toEqual({
      kind: 'chargeback',
      // Read in minor units (the decimals converted with the currency's exponent).
      chargeback: { type: '1st Chargeback', amount: -14625, currency: 'USD', chargebackAmount: 30000, originalTransactionAmount: 14800 },
    });

    expect(parseGenesisResponse(SPEC_CHARGEBACK_NOT_FOUND)).toMatchObject({
      kind: 'error',
      root: 'chargeback_response',
      error: { code: '470', message: 'Chargeback not found!' },
    });
  });

  it('writes every response kind so that it reads back the same', () => {
    const payment = parseGenesisResponse(SPEC_SALE_RESPONSE);
    const responses: GenesisResponse[] = [
      payment,
      parseGenesisResponse(SPEC_RECONCILE_PAGE),
      parseGenesisResponse(SPEC_CHARGEBACK_PAGE),
      parseGenesisResponse(SPEC_NOT_FOUND),
      parseGenesisResponse(SPEC_CHARGEBACK_NOT_FOUND),
      {
        kind: 'payments',
        pagination: { page: 1, perPage: 100, totalCount: 2, pagesCount: 1 },
        payments: [
          { status: 'approved', uniqueId: 'a', amount: 1 },
          { status: 'declined', uniqueId: 'b', code: '500', billingCountry: 'DE', usage: 'Membership' },
        ],
      },
    ];
    for (const response of responses) expect(parseGenesisResponse(buildGenesisResponseXml(response))).toEqual(response);
    expect(buildGenesisResponseXml(payment)).toContain('<sent_to_acquirer>true</sent_to_acquirer>');
  });

  it('refuses malformed XML, unexpected roots and invalid values', () => {
    expect(() => parseGenesisResponse('<html><body>502 Bad Gateway')).toThrow(GenesisXmlError);
    expect(() => parseGenesisResponse('Service Unavailable')).toThrow(GenesisXmlError);
    expect(() => parseGenesisResponse('<html><body>oops</body></html>')).toThrow(/unexpected root/);
    expect(() => parseGenesisResponse('<payment_response><status>approved</status><amount>1.50</amount></payment_response>')).toThrow(
      /amount/,
    );
    expect(() => parseGenesisResponse('<payment_responses page="1"><payment_response/></payment_responses>')).toThrow(
      GenesisXmlError,
    );
  });
});

describe('notification echo', () => {
  it('reads the echo Tether renders', () => {
    expect(parseNotificationEcho(notificationEcho({ kind: 'api', id: '44177a21403427eb96664a6d7e5d5d48' }))).toEqual({
      kind: 'api',
      id: '44177a21403427eb96664a6d7e5d5d48',
    });
    expect(parseNotificationEcho(notificationEcho({ kind: 'wpf', id: "o'neil" }))).toEqual({ kind: 'wpf', id: "o'neil" });
    expect(parseNotificationEcho(notificationEcho({ kind: 'kyc', id: 'r1' }))).toEqual({ kind: 'kyc', id: 'r1' });
    expect(parseNotificationEcho(notificationEcho({ kind: 'apm', id: 'p1' }))).toEqual({ kind: 'apm', id: 'p1' });
  });

  it('reads echoes written differently by other SDKs', () => {
    expect(
      parseNotificationEcho('<?xml version="1.0" encoding="utf-8"?><notification_echo><unique_id>abc</unique_id></notification_echo>'),
    ).toEqual({ kind: 'api', id: 'abc' });
    expect(parseNotificationEcho('<notification_echo>\n\t<unique_id>\n abc \n</unique_id>\n</notification_echo>')).toEqual({
      kind: 'api',
      id: 'abc',
    });
  });

  it('refuses anything else', () => {
    expect(parseNotificationEcho('OK')).toBeUndefined();
    expect(parseNotificationEcho('')).toBeUndefined();
    expect(parseNotificationEcho('<notification_echo></notification_echo>')).toBeUndefined();
    expect(parseNotificationEcho('<echo><unique_id>abc</unique_id></echo>')).toBeUndefined();
  });
});
