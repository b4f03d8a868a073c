/** An S3 object, as package artifacts, SBOMs and job documents name it. */
export interface S3Location {
  bucket: string;
  key: string;
  version?: string;
}

const PATH_STYLE_HOST = /^s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/;
const VIRTUAL_HOST = /^(.+)\.s3(?:[.-](?:dualstack\.)?[a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$/;

/**
 * Bucket and key of an S3 object URL from its lower-case host (no port) and its path (without the
 * leading `/`): virtual-hosted (`b.s3.{region}.amazonaws.com`, the whole path is the key) or
 * path-style (`s3.{region}.amazonaws.com`, or any other host such as this server's own S3 door:
 * the first segment is the bucket). `decode` reads the path-style bucket and the key as the URL
 * form encodes them; undefined when it cannot or when bucket or key is empty.
 */
export function s3LocationOfUrlParts(
  host: string,
  path: string,
  decode: (text: string) => string | undefined,
): S3Location | undefined {
  let bucket: string | undefined;
  let keyText: string;
  const virtual = PATH_STYLE_HOST.test(host) ? null : VIRTUAL_HOST.exec(host);
  if (virtual) {
    bucket = virtual[1];
    keyText = path;
  } else {
    const slash = path.indexOf('/');
    if (slash <= 0) return undefined;
    bucket = decode(path.slice(0, slash));
    keyText = path.slice(slash + 1);
  }
  const key = decode(keyText);
  if (!bucket || !key) return undefined;
  return { bucket, key };
}

/** `decodeURIComponent`, undefined for a malformed escape instead of a URIError. */
export function decodeUrlComponent(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
