import type {
  Money,
  RecordedCatalogEvent,
  RecordedInventoryEvent,
} from '../../src/contracts';
import type { Projection, ProjectionHandler } from '../projector/projection';

export const PRODUCTS = 'products';

export interface ProductView {
  sku: string;
  name: string;
  /** Lower-cased name: sorting by it is the same on every read store. */
  sortName: string;
  description: string;
  price: Money;
  status: 'active' | 'discontinued';
  available: number;
  /** The product aggregate's version (the ETag of GET /products/{sku}). */
  version: number;
  updatedAt: string;
}

const blank = (sku: string): ProductView => ({
  sku,
  name: '',
  sortName: '',
  description: '',
  price: { amount: 0, currency: 'EUR' },
  status: 'active',
  available: 0,
  version: 0,
  updatedAt: new Date(0).toISOString(),
});

const product = (
  change: (doc: ProductView, event: RecordedCatalogEvent) => Partial<ProductView>,
): ProjectionHandler<RecordedCatalogEvent, ProductView> => ({
  collection: PRODUCTS,
  documentId: (event) => event.data.sku,
  apply: (doc, event) => ({
    ...(doc ?? blank(event.data.sku)),
    ...change(doc ?? blank(event.data.sku), event),
    version: event.streamVersion,
    updatedAt: new Date(event.recordedAt).toISOString(),
  }),
});

/** Live availability comes from the stock stream: the levels are on every stock event. */
const availability: ProjectionHandler<RecordedInventoryEvent, ProductView> = {
  collection: PRODUCTS,
  documentId: (event) => event.data.sku,
  apply: (doc, event) => ({
    ...(doc ?? blank(event.data.sku)),
    available: event.data.onHand - event.data.reserved,
  }),
};

export const productCatalogProjection: Projection = {
  name: 'product-catalog',
  views: [
    {
      collection: PRODUCTS,
      fields: { status: 'string', name: 'string', sortName: 'string', 'price.amount': 'number', available: 'number' },
    },
  ],
  handlers: {
    ProductRegistered: [
      product((_, e) => {
        const data = (e as Extract<RecordedCatalogEvent, { type: 'ProductRegistered' }>).data;
        return { ...data, sortName: data.name.toLowerCase(), status: 'active' };
      }),
    ],
    ProductDetailsUpdated: [
      product((_, e) => {
        const { name, description } = (e as Extract<RecordedCatalogEvent, { type: 'ProductDetailsUpdated' }>).data;
        return { name, description, sortName: name.toLowerCase() };
      }),
    ],
    ProductPriceChanged: [
      product((_, e) => ({ price: (e as Extract<RecordedCatalogEvent, { type: 'ProductPriceChanged' }>).data.price })),
    ],
    ProductDiscontinued: [product(() => ({ status: 'discontinued' }))],
    StockReceived: [availability],
    StockAdjusted: [availability],
    StockReserved: [availability],
    StockReleased: [availability],
    StockCommitted: [availability],
  },
};
