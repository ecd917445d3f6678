// Type definitions for @customs-portal/keygen (see docs/ARCHITECTURE.md, "The keygen JavaScript API").

export type KeyAlgorithm = { kind: 'rsa'; bits?: 2048 | 3072 | 4096 } | { kind: 'ec-p256' };
export type Backend = 'auto' | 'webcrypto' | 'rust';
export type Phase = 'loading' | 'generating' | 'exporting' | 'signing' | 'packing' | 'done';

export interface GeneratedKey {
  /** PKCS#8 PrivateKeyInfo, DER. Secret: keep it in the page (or a KeyVault). */
  pkcs8: Uint8Array;
  /** SubjectPublicKeyInfo, DER. */
  spki: Uint8Array;
  algorithm: KeyAlgorithm;
  backend: 'webcrypto' | 'rust';
  /** The WebCrypto private key (backend 'webcrypto' only): signCsr signs with it. */
  privateKey?: CryptoKey;
}

/**
 * Error codes: key_size, unsupported_algorithm, bad_key, bad_certificate, key_mismatch,
 * password_required, password_format, password_mismatch, file_name_required,
 * file_name_format, file_name_too_long, friendly_name, profile, subject_required,
 * subject_format, subject_too_long, random, crypto, backend, webcrypto_unavailable,
 * webcrypto_failed, worker_failed, load_failed, not_initialized, internal.
 */
export class KeygenError extends Error {
  code: string;
  /** The input the error is about (password, password_confirm, file_name, cn, c, ...), if any. */
  field?: string;
  constructor(code: string, message: string, field?: string);
}

export interface Subject {
  cn: string;
  o?: string;
  ou?: string;
  /** Two upper-case letters (ISO 3166), encoded as PrintableString. */
  c?: string;
  /** PrintableString characters only (e.g. the tax ID). */
  serialNumber?: string;
}

export interface PfxOptions {
  pkcs8: Uint8Array;
  /** The issued certificate, PEM text or DER. */
  certificate: string | Uint8Array;
  /** CA certificates, issuing CA first; a PEM string may hold several. */
  chain?: (string | Uint8Array)[];
  /** 4-20 letters or digits. */
  password: string;
  /** The certificate name shown by Windows, Java, NSS..., e.g. SingleWindow-01-B00051. */
  friendlyName: string;
  /** 'compatible' (default: 3DES + HMAC-SHA1, opens everywhere) or 'modern' (AES-256 + SHA-256). */
  profile?: 'compatible' | 'modern';
}

/** Loads the wasm module once; await it before the synchronous functions. */
export function init(wasmUrl?: string | URL): Promise<void>;

export function generateKey(opts?: {
  algorithm?: KeyAlgorithm;
  backend?: Backend;
  onPhase?: (p: Phase) => void;
}): Promise<GeneratedKey>;

/** Signs the request in Rust with the PKCS#8 key. */
export function buildCsr(pkcs8: Uint8Array, subject: Subject): { pem: string; der: Uint8Array };

/**
 * Signs the request for a generated (or stored) key: with WebCrypto when the key holds its
 * CryptoKey, in Rust otherwise. Loads the wasm if needed.
 */
export function signCsr(
  key: Pick<GeneratedKey, 'pkcs8' | 'spki'> & { privateKey?: CryptoKey },
  subject: Subject,
): Promise<{ pem: string; der: Uint8Array }>;

export function buildPfx(o: PfxOptions): Uint8Array;

export function certificateToDer(pemOrDer: string | Uint8Array): Uint8Array;
export function certificateToPem(der: Uint8Array): string;

/** Throws KeygenError: password_required, password_format or password_mismatch. */
export function validatePassword(pw: string, confirm?: string): void;
/** Throws KeygenError: file_name_required, file_name_format or file_name_too_long. */
export function validateFileName(name: string): void;

export interface StoredKey extends GeneratedKey {
  meta: Record<string, unknown>;
  createdAt: number;
}

export const DEFAULT_MAX_AGE_DAYS: 30;

export interface VaultOptions {
  /** The company the keys belong to (its tax ID): a vault sees only its owner's keys. */
  owner: string;
  /** Keys older than this are wiped on open() and list(); default 30. */
  maxAgeDays?: number;
  /** IndexedDB database name; default 'customs-keygen-vault'. */
  dbName?: string;
  /** Milliseconds since the epoch (tests); default Date.now. */
  now?: () => number;
}

/** IndexedDB store of generated keys, encrypted with a non-extractable AES-GCM key. */
export class KeyVault {
  static open(options: VaultOptions): Promise<KeyVault>;
  readonly owner: string;
  put(id: string, key: GeneratedKey, meta?: Record<string, unknown>): Promise<void>;
  get(id: string): Promise<StoredKey | null>;
  list(): Promise<{ id: string; createdAt: number; meta: Record<string, unknown> }[]>;
  delete(id: string): Promise<void>;
  close(): void;
}
