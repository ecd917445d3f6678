// KeyVault: keeps generated keys in IndexedDB until their PFX is saved, so closing the tab
// after the CSR was sent does not lose the key. Each PKCS#8 is encrypted with AES-GCM under
// one non-extractable CryptoKey that is itself stored in IndexedDB (CryptoKeys are
// structured-clonable; a non-extractable one cannot be read out by script, only used).
// The record id is the AES-GCM additional data, so records cannot be swapped.
// `meta`, the public key, the algorithm and the dates are stored in clear.

const DB_VERSION = 1;
const KEYS = 'keys';
const SECRETS = 'secrets';
const WRAPPING_KEY_ID = 'wrapping-key';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
  });
}

function openDb(name) {
  const req = indexedDB.open(name, DB_VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    if (!db.objectStoreNames.contains(KEYS)) db.createObjectStore(KEYS, { keyPath: 'id' });
    if (!db.objectStoreNames.contains(SECRETS)) db.createObjectStore(SECRETS);
  };
  return request(req);
}

function copyBytes(b) {
  return new Uint8Array(b).slice();
}

export class KeyVault {
  #db;
  #wrappingKey;

  constructor(db, wrappingKey) {
    this.#db = db;
    this.#wrappingKey = wrappingKey;
  }

  /** Opens (creating if needed) the vault database `dbName`. */
  static async open(dbName = 'customs-keygen-vault') {
    const db = await openDb(dbName);
    return new KeyVault(db, await KeyVault.#wrappingKeyOf(db));
  }

  static async #wrappingKeyOf(db) {
    const read = async () => request(db.transaction(SECRETS).objectStore(SECRETS).get(WRAPPING_KEY_ID));
    const existing = await read();
    if (existing) return existing;
    const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
    try {
      // add() fails if another tab stored its key first; then use that one.
      const tx = db.transaction(SECRETS, 'readwrite');
      tx.objectStore(SECRETS).add(fresh, WRAPPING_KEY_ID);
      await done(tx);
      return fresh;
    } catch (e) {
      const winner = await read();
      if (winner) return winner;
      throw e;
    }
  }

  /** Stores `key` (a GeneratedKey) under `id`, replacing any earlier key with that id. */
  async put(id, key, meta = {}) {
    if (typeof id !== 'string' || id === '') throw new TypeError('KeyVault id must be a non-empty string');
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ciphertext = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: new TextEncoder().encode(id) },
      this.#wrappingKey,
      key.pkcs8,
    );
    const record = {
      id,
      iv,
      ciphertext: new Uint8Array(ciphertext),
      spki: copyBytes(key.spki),
      algorithm: { ...key.algorithm },
      backend: key.backend,
      meta: { ...meta },
      createdAt: Date.now(),
    };
    const tx = this.#db.transaction(KEYS, 'readwrite');
    tx.objectStore(KEYS).put(record);
    await done(tx);
  }

  /** The stored key with its meta data, or null. */
  async get(id) {
    const record = await request(this.#db.transaction(KEYS).objectStore(KEYS).get(id));
    if (!record) return null;
    const pkcs8 = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: record.iv, additionalData: new TextEncoder().encode(id) },
      this.#wrappingKey,
      record.ciphertext,
    );
    return {
      pkcs8: new Uint8Array(pkcs8),
      spki: record.spki,
      algorithm: record.algorithm,
      backend: record.backend,
      meta: record.meta,
      createdAt: record.createdAt,
    };
  }

  /** Ids, dates and meta data of all stored keys (nothing is decrypted). */
  async list() {
    const records = await request(this.#db.transaction(KEYS).objectStore(KEYS).getAll());
    return records.map(({ id, createdAt, meta }) => ({ id, createdAt, meta }));
  }

  /** Removes the key (call after the PFX was saved). */
  async delete(id) {
    const tx = this.#db.transaction(KEYS, 'readwrite');
    tx.objectStore(KEYS).delete(id);
    await done(tx);
  }

  /** Closes the database connection. */
  close() {
    this.#db.close();
  }
}
