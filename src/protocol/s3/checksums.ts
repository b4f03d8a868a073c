import { createHash, type Hash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';

/**
 * S3's additional checksums (x-amz-checksum-<algorithm>, as a header or an aws-chunked trailer),
 * computed incrementally over the decoded object bytes. Values are the big-endian digest in base64.
 */
export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';

export const CHECKSUM_ALGORITHMS: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

export interface Checksum {
  readonly algorithm: ChecksumAlgorithm;
  update(data: Buffer): void;
  /** base64 of the digest */
  digest(): string;
}

/** `x-amz-checksum-crc32` → 'CRC32'; undefined for anything else. */
export function algorithmOfHeader(name: string): ChecksumAlgorithm | undefined {
  const m = /^x-amz-checksum-([a-z0-9]+)$/i.exec(name.trim());
  if (!m) return undefined;
  const alg = m[1].toUpperCase();
  return (CHECKSUM_ALGORITHMS as string[]).includes(alg) ? (alg as ChecksumAlgorithm) : undefined;
}

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'CRC32':
      return crcChecksum(algorithm, (data, prev) => zlibCrc32(data, prev), 4);
    case 'CRC32C':
      return crcChecksum(algorithm, crc32c, 4);
    case 'CRC64NVME':
      return crc64nvme();
    case 'SHA1':
      return hashChecksum(algorithm, createHash('sha1'));
    case 'SHA256':
      return hashChecksum(algorithm, createHash('sha256'));
  }
}

function hashChecksum(algorithm: ChecksumAlgorithm, hash: Hash): Checksum {
  return { algorithm, update: (d) => hash.update(d), digest: () => hash.digest('base64') };
}

function crcChecksum(algorithm: ChecksumAlgorithm, step: (data: Buffer, prev: number) => number, bytes: 4): Checksum {
  let value = 0;
  return {
    algorithm,
    update: (d) => {
      value = step(d, value);
    },
    digest: () => {
      const out = Buffer.alloc(bytes);
      out.writeUInt32BE(value >>> 0);
      return out.toString('base64');
    },
  };
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), continuing from `prev` like zlib.crc32. */
export function crc32c(data: Buffer, prev = 0): number {
  let c = ~prev >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// CRC-64/NVME (reflected polynomial 0x9a6c9329ac4bc9b5), table split into 32-bit halves.
const CRC64_LO = new Uint32Array(256);
const CRC64_HI = new Uint32Array(256);
(() => {
  const POLY_HI = 0x9a6c9329;
  const POLY_LO = 0xac4bc9b5;
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (carry) {
        lo = (lo ^ POLY_LO) >>> 0;
        hi = (hi ^ POLY_HI) >>> 0;
      }
    }
    CRC64_LO[i] = lo;
    CRC64_HI[i] = hi;
  }
})();

function crc64nvme(): Checksum {
  let lo = 0xffffffff;
  let hi = 0xffffffff;
  return {
    algorithm: 'CRC64NVME',
    update: (d) => {
      for (let i = 0; i < d.length; i++) {
        const idx = (lo ^ d[i]) & 0xff;
        const nlo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
        const nhi = hi >>> 8;
        lo = (nlo ^ CRC64_LO[idx]) >>> 0;
        hi = (nhi ^ CRC64_HI[idx]) >>> 0;
      }
    },
    digest: () => {
      const out = Buffer.alloc(8);
      out.writeUInt32BE(~hi >>> 0, 0);
      out.writeUInt32BE(~lo >>> 0, 4);
      return out.toString('base64');
    },
  };
}
