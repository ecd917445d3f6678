// KeyVault: keeps generated keys in IndexedDB until their PFX is saved, so closing the tab
// after the CSR was sent does not lose the key. Each PKCS#8 is encrypted with AES-GCM under
// one non-extractable CryptoKey that is itself stored in IndexedDB (CryptoKeys are
// structured-clonable; a non-extractable one cannot be read out by script, only used).
//
// Every record belongs to an owner (the company's tax ID) and an application (the record
// id): a vault opened for one owner lists, reads and deletes only that owner's keys, so a
// second company logged in to the same browser neither sees nor uses the first one's keys.
// Owner and id are the AES-GCM additional data, so a record cannot be moved to another
// owner or application by editing IndexedDB. Keys older than `maxAgeDays` (default 30) are
// wiped, whoever owns them, whenever a vault is opened or listed.
// `meta`, the public key, the algorithm and the dates are stored in clear.
//
// Version 1 of the database had no owners; its records cannot be attributed to a company
// and are dropped by the upgrade.

const DB_VERSION = 2;
const KEYS = 'keys';
const SECRETS = 'secrets';
const BY_OWNER = 'owner';
const BY_AGE = 'createdAt';
const WRAPPING_KEY_ID = 'wrapping-key';
const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_VAULT_NAME = 'customs-keygen-vault';
export const DEFAULT_MAX_AGE_DAYS = 30;

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
  req.onupgradeneeded = (ev) => {
    const db = req.result;
    if (ev.oldVersion < 2 && db.objectStoreNames.contains(KEYS)) db.deleteObjectStore(KEYS);
    if (!db.objectStoreNames.contains(KEYS)) {
      const keys = db.createObjectStore(KEYS, { keyPath: ['owner', 'id'] });
      keys.createIndex(BY_OWNER, 'owner');
      keys.createIndex(BY_AGE, 'createdAt');
    }
    if (!db.objectStoreNames.contains(SECRETS)) db.createObjectStore(SECRETS);
  };
  return request(req).then((db) => {
    // Another tab upgrading the database waits for this connection: let it go.
    db.onversionchange = () => db.close();
    return db;
  });
}

function copyBytes(b) {
  return new Uint8Array(b).slice();
}

function nonEmpty(value, what) {
  if (typeof value !== 'string' || value === '') throw new TypeError(`KeyVault ${what} must be a non-empty string`);
  return value;
}

/** AES-GCM additional data: binds the ciphertext to its owner and application. */
function additionalData(owner, id) {
  return new TextEncoder().encode(`${owner}\n${id}`);
}

export class KeyVault {
  #db;
  #wrappingKey;
  #owner;
  #maxAgeMs;
  #now;

  constructor(db, wrappingKey, owner, maxAgeMs, now) {
    this.#db = db;
    this.#wrappingKey = wrappingKey;
    this.#owner = owner;
    this.#maxAgeMs = maxAgeMs;
    this.#now = now;
  }

  /**
   * Opens (creating if needed) the vault of `owner` (the company's tax ID) and wipes every
   * key older than `maxAgeDays`. `now` (milliseconds since the epoch) is for tests.
   */
  static async open({ owner, maxAgeDays = DEFAULT_MAX_AGE_DAYS, dbName = DEFAULT_VAULT_NAME, now = Date.now } = {}) {
    nonEmpty(owner, 'owner');
    if (!(typeof maxAgeDays === 'number' && maxAgeDays > 0)) {
      throw new TypeError('KeyVault maxAgeDays must be a positive number');
    }
    const db = await openDb(dbName);
    try {
      const vault = new KeyVault(db, await KeyVault.#wrappingKeyOf(db), owner, maxAgeDays * DAY_MS, now);
      await vault.#wipeExpired();
      return vault;
    } catch (e) {
      db.close();
      throw e;
    }
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

  /** Deletes every record (of any owner) created before now - maxAge. */
  async #wipeExpired() {
    const cutoff = this.#now() - this.#maxAgeMs;
    const tx = this.#db.transaction(KEYS, 'readwrite');
    const old = tx.objectStore(KEYS).index(BY_AGE).openCursor(IDBKeyRange.upperBound(cutoff, true));
    old.onsuccess = () => {
      const cursor = old.result;
      if (cursor) {
        cursor.delete();
        cursor.continue();
      }
    };
    await done(tx);
  }

  /** The company this vault was opened for. */
  get owner() {
    return this.#owner;
  }

  /** Stores `key` (a GeneratedKey) for application `id`, replacing an earlier one. */
  async put(id, key, meta = {}) {
    nonEmpty(id, 'id');
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ciphertext = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: additionalData(this.#owner, id) },
      this.#wrappingKey,
      key.pkcs8,
    );
    const record = {
      owner: this.#owner,
      id,
      iv,
      ciphertext: new Uint8Array(ciphertext),
      spki: copyBytes(key.spki),
      algorithm: { ...key.algorithm },
      backend: key.backend,
      meta: { ...meta },
      createdAt: this.#now(),
    };
    const tx = this.#db.transaction(KEYS, 'readwrite');
    tx.objectStore(KEYS).put(record);
    await done(tx);
  }

  /** This owner's stored key for application `id` with its meta data, or null. */
  async get(id) {
    nonEmpty(id, 'id');
    const record = await request(this.#db.transaction(KEYS).objectStore(KEYS).get([this.#owner, id]));
    if (!record || record.createdAt < this.#now() - this.#maxAgeMs) return null;
    const pkcs8 = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: record.iv, additionalData: additionalData(this.#owner, id) },
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

  /** Ids, dates and meta data of this owner's keys (nothing is decrypted), after the wipe. */
  async list() {
    await this.#wipeExpired();
    const index = this.#db.transaction(KEYS).objectStore(KEYS).index(BY_OWNER);
    const records = await request(index.getAll(this.#owner));
    return records.map(({ id, createdAt, meta }) => ({ id, createdAt, meta }));
  }

  /** Removes this owner's key for `id` (after the PFX was saved, or when discarded). */
  async delete(id) {
    nonEmpty(id, 'id');
    const tx = this.#db.transaction(KEYS, 'readwrite');
    tx.objectStore(KEYS).delete([this.#owner, id]);
    await done(tx);
  }

  /** Closes the database connection. */
  close() {
    this.#db.close();
  }
}
