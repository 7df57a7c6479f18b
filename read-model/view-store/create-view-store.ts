import type { ViewStore, ViewStoreOptions } from './view-store';

export class UnsupportedReadStoreError extends Error {
  override name = 'UnsupportedReadStoreError';
}

/**
 * Opens the read store named by the URL's scheme and prepares it (PostgreSQL: runs the
 * read-store migration; MongoDB: creates the checkpoint and dead-letter indexes).
 * Never falls back from one store to the other.
 */
export async function createViewStore(url: string, options: ViewStoreOptions = {}): Promise<ViewStore> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  let store: ViewStore;
  // Adapters are loaded on demand: the PostgreSQL store never loads the MongoDB driver and vice versa.
  if (scheme === 'postgres' || scheme === 'postgresql') {
    const { PostgresViewStore } = await import('./postgres-view-store');
    store = new PostgresViewStore(url, options);
  } else if (scheme === 'mongodb' || scheme === 'mongodb+srv') {
    const { MongoViewStore } = await import('./mongo-view-store');
    store = new MongoViewStore(url, options);
  } else {
    throw new UnsupportedReadStoreError(
      scheme
        ? `read store URL scheme "${scheme}:" is not supported (use postgres://, postgresql://, mongodb:// or mongodb+srv://)`
        : 'read store URL has no scheme (use postgres://, postgresql://, mongodb:// or mongodb+srv://)',
    );
  }
  try {
    await store.init();
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
  return store;
}
