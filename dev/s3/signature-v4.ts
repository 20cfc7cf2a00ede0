/**
 * Checks AWS Signature Version 4 on requests to the dev S3 server. s3rver only looks the access
 * key up and accepts any v4 signature, which would let a wrong secret, or a browser uploading
 * with another Content-Type or size than the presigned URL was signed for, pass locally and
 * fail against real S3. Scope: header-signed and presigned (query) requests as the AWS SDK makes
 * them; the payload hash is taken as declared, not recomputed from the body.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type SignatureFailureCode = 'AccessDenied' | 'AuthorizationHeaderMalformed' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch';

export interface SignatureFailure {
  code: SignatureFailureCode;
  message: string;
}

export interface IncomingSignedRequest {
  method: string;
  /** Path and query exactly as received, e.g. `/bucket/key?X-Amz-Algorithm=...` */
  url: string;
  headers: IncomingHttpHeaders;
}

interface ClaimedSignature {
  accessKeyId: string;
  /** `date/region/service/aws4_request` */
  scope: string;
  scopeDate: string;
  region: string;
  service: string;
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  payloadHash: string;
  /** Query parameters that are not part of what was signed (the signature itself). */
  unsignedQueryParameter?: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseScope(credential: string) {
  const [accessKeyId, scopeDate, region, service, terminator] = credential.split('/');
  if (!accessKeyId || !scopeDate || !region || !service || terminator !== 'aws4_request') return undefined;
  return { accessKeyId, scopeDate, region, service, scope: `${scopeDate}/${region}/${service}/aws4_request` };
}

function fromAuthorizationHeader(authorization: string, headers: IncomingHttpHeaders): ClaimedSignature | undefined {
  const match = /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(authorization.trim());
  const scope = match?.[1] && parseScope(match[1]);
  const amzDate = headerValue(headers, 'x-amz-date');
  const payloadHash = headerValue(headers, 'x-amz-content-sha256');
  if (!match?.[2] || !match[3] || !scope || !amzDate || !payloadHash) return undefined;
  return { ...scope, amzDate, payloadHash, signedHeaders: match[2].split(';'), signature: match[3] };
}

function fromQuery(query: URLSearchParams): ClaimedSignature | undefined {
  const scope = parseScope(query.get('X-Amz-Credential') ?? '');
  const amzDate = query.get('X-Amz-Date');
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  if (query.get('X-Amz-Algorithm') !== ALGORITHM || !scope || !amzDate || !signedHeaders || !signature) return undefined;
  return {
    ...scope,
    amzDate,
    signedHeaders: signedHeaders.split(';'),
    signature,
    payloadHash: query.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
    unsignedQueryParameter: 'X-Amz-Signature',
  };
}

function decodeComponent(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function canonicalRequest(request: IncomingSignedRequest, claimed: ClaimedSignature): string {
  const questionMark = request.url.indexOf('?');
  const rawPath = questionMark === -1 ? request.url : request.url.slice(0, questionMark);
  const rawQuery = questionMark === -1 ? '' : request.url.slice(questionMark + 1);
  const path = rawPath.split('/').map((segment) => rfc3986(decodeComponent(segment))).join('/');
  const query = rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const [name = '', value = ''] = pair.split(/=(.*)/s);
      return [rfc3986(decodeComponent(name)), rfc3986(decodeComponent(value))] as const;
    })
    .filter(([name]) => name !== claimed.unsignedQueryParameter)
    .sort(([nameA, valueA], [nameB, valueB]) => (nameA === nameB ? (valueA < valueB ? -1 : 1) : nameA < nameB ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headerLines = claimed.signedHeaders.map(
    (name) => `${name}:${(headerValue(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')}`,
  );
  return [request.method, path, query, ...headerLines, '', claimed.signedHeaders.join(';'), claimed.payloadHash].join('\n');
}

function expectedSignature(request: IncomingSignedRequest, claimed: ClaimedSignature, secretAccessKey: string): string {
  const hashedCanonicalRequest = createHash('sha256').update(canonicalRequest(request, claimed)).digest('hex');
  const stringToSign = [ALGORITHM, claimed.amzDate, claimed.scope, hashedCanonicalRequest].join('\n');
  let key: Buffer = createHmac('sha256', `AWS4${secretAccessKey}`).update(claimed.scopeDate).digest();
  for (const part of [claimed.region, claimed.service, 'aws4_request']) key = createHmac('sha256', key).update(part).digest();
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/** undefined when the request carries a valid signature by a known key. */
export function checkSignatureV4(
  request: IncomingSignedRequest,
  secretFor: (accessKeyId: string) => string | undefined,
): SignatureFailure | undefined {
  const authorization = headerValue(request.headers, 'authorization');
  const query = new URL(request.url, 'http://placeholder').searchParams;
  if (!authorization && !query.has('X-Amz-Signature')) {
    return { code: 'AccessDenied', message: 'Access Denied: the request is not signed' };
  }
  const claimed = authorization ? fromAuthorizationHeader(authorization, request.headers) : fromQuery(query);
  if (!claimed) {
    return { code: 'AuthorizationHeaderMalformed', message: 'Only complete AWS Signature Version 4 (AWS4-HMAC-SHA256) signatures are accepted' };
  }
  const secret = secretFor(claimed.accessKeyId);
  if (secret === undefined) {
    return { code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' };
  }
  const expected = Buffer.from(expectedSignature(request, claimed, secret));
  const provided = Buffer.from(claimed.signature);
  if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) {
    return {
      code: 'SignatureDoesNotMatch',
      message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    };
  }
  return undefined;
}
