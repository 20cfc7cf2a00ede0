/**
 * An RFC 6266 `attachment` header value: a quoted ASCII stand-in for old clients plus the exact
 * name as RFC 5987 `filename*`, which browsers prefer. Control characters never get through, so
 * a name cannot break out of the header.
 */
export function attachmentDisposition(fileName: string): string {
  const asciiFallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${asciiFallback}"; filename*=UTF-8''${encoded}`;
}
