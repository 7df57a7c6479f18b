import type { OrderLine, OrderStatus } from '../../src/contracts';
import { InvalidCommand, InvariantViolation, NotFoundError } from '../shared/domain-errors';
import type { Decider } from '../shared/decider';
import { MAX_ORDER_LINES, Order, OrderCommand, OrderEvent, PlaceOrderLine } from './order';

type PlaceOrder = Extract<OrderCommand, { type: 'PlaceOrder' }>;

/** Position on the happy path; a step at or before it is already done. */
const PROGRESS: Partial<Record<OrderStatus, number>> = {
  pending: 0,
  stock_reserved: 1,
  paid: 2,
  confirmed: 3,
  shipped: 4,
};

export const orderDecider: Decider<Order, OrderCommand, OrderEvent> = {
  initialState: () => ({
    status: 'none',
    orderId: '',
    customerId: '',
    lines: [],
    total: { amount: 0, currency: 'EUR' },
    paymentToken: '',
    payment: { status: 'none' },
  }),
  snapshot: { version: 1 },

  decide(command, state) {
    const { orderId } = command;
    if (command.type === 'PlaceOrder') {
      if (state.status !== 'none') {
        throw new InvariantViolation(`order ${orderId} already exists`, 'order-exists', { orderId });
      }
      return [placeOrder(command)];
    }
    // Another customer's order is, to a customer, an order that does not exist.
    const notYours = command.type === 'CancelOrder' && command.ownedBy !== undefined && command.ownedBy !== state.customerId;
    if (state.status === 'none' || notYours) {
      throw new NotFoundError(`order ${orderId} does not exist`, 'unknown-order', { orderId });
    }
    const { payment } = state;
    switch (command.type) {
      case 'MarkStockReserved':
        if (state.status === 'pending') return [{ type: 'OrderStockReserved', data: { orderId } }];
        if (reached(state, 'stock_reserved')) return [];
        throw invalidTransition(state, command);
      case 'RejectOrder':
        if (state.status === 'pending') {
          const { reason, sku } = command;
          return [{ type: 'OrderRejected', data: { orderId, reason, ...(sku === undefined ? {} : { sku }) } }];
        }
        if (state.status === 'rejected') return [];
        throw invalidTransition(state, command);
      case 'RecordPaymentAuthorized': {
        const { authorizationId, amount } = command;
        if (state.status === 'stock_reserved') {
          return [{ type: 'OrderPaymentAuthorized', data: { orderId, authorizationId, amount } }];
        }
        if (reached(state, 'paid')) return sameAuthorization(state, command);
        throw invalidTransition(state, command);
      }
      case 'RecordPaymentDeclined':
        if (payment.status === 'declined') return [];
        if (state.status === 'stock_reserved') {
          return [{ type: 'OrderPaymentDeclined', data: { orderId, reason: command.reason } }];
        }
        throw invalidTransition(state, command);
      case 'ConfirmOrder':
        if (state.status === 'paid') {
          const { customerId, lines, total } = state;
          return [{ type: 'OrderConfirmed', data: { orderId, customerId, lines, total } }];
        }
        if (reached(state, 'confirmed')) return [];
        throw invalidTransition(state, command);
      case 'CancelOrder':
        if (state.status === 'cancelled') {
          // The saga may redeliver its compensation; a customer asking twice is told no.
          if (command.by === 'saga') return [];
          throw new InvariantViolation(`order ${orderId} is already cancelled`, 'invalid-transition', {
            orderId,
            status: state.status,
            command: command.type,
          });
        }
        if (state.status === 'shipped' || state.status === 'rejected') throw invalidTransition(state, command);
        return [
          {
            type: 'OrderCancelled',
            data: { orderId, reason: command.reason, by: command.by, previousStatus: state.status, lines: state.lines, total: state.total },
          },
        ];
      case 'ShipOrder':
        if (state.status === 'confirmed') return [{ type: 'OrderShipped', data: { orderId } }];
        throw invalidTransition(state, command);
      case 'RecordPaymentCaptured': {
        if (payment.status === 'captured') return sameAuthorization(state, command);
        if (state.status !== 'shipped' || payment.status !== 'authorized') throw invalidTransition(state, command);
        sameAuthorization(state, command);
        const { authorizationId, amount } = command;
        return [{ type: 'OrderPaymentCaptured', data: { orderId, authorizationId, amount } }];
      }
      case 'RecordPaymentRefunded': {
        if (payment.status === 'refunded') return sameAuthorization(state, command);
        if (state.status !== 'cancelled' || (payment.status !== 'authorized' && payment.status !== 'captured')) {
          throw invalidTransition(state, command);
        }
        sameAuthorization(state, command);
        const { authorizationId, amount } = command;
        return [{ type: 'OrderPaymentRefunded', data: { orderId, authorizationId, amount } }];
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'OrderPlaced': {
        const { orderId, customerId, lines, total, paymentToken } = event.data;
        const payment = { status: 'none' } as const;
        return { ...state, status: 'pending', orderId, customerId, lines, total, paymentToken, payment };
      }
      case 'OrderStockReserved':
        return { ...state, status: 'stock_reserved' };
      case 'OrderRejected':
        return { ...state, status: 'rejected', reason: event.data.reason };
      case 'OrderPaymentAuthorized': {
        const { authorizationId, amount } = event.data;
        return { ...state, status: 'paid', payment: { status: 'authorized', authorizationId, amount } };
      }
      case 'OrderPaymentDeclined':
        return { ...state, reason: event.data.reason, payment: { ...state.payment, status: 'declined' } };
      case 'OrderConfirmed':
        return { ...state, status: 'confirmed' };
      case 'OrderCancelled':
        return {
          ...state,
          status: 'cancelled',
          reason: event.data.reason,
          cancelledFrom: state.status === 'none' || state.status === 'cancelled' ? state.cancelledFrom : state.status,
        };
      case 'OrderShipped':
        return { ...state, status: 'shipped' };
      case 'OrderPaymentCaptured':
        return { ...state, payment: { ...state.payment, status: 'captured' } };
      case 'OrderPaymentRefunded':
        return { ...state, payment: { ...state.payment, status: 'refunded' } };
      default:
        return state;
    }
  },
};

function placeOrder(command: PlaceOrder): OrderEvent {
  const { orderId, customerId, paymentToken } = command;
  if (command.lines.length === 0) {
    throw new InvalidCommand(`order ${orderId} has no lines`, 'no-lines', { orderId });
  }
  if (command.lines.length > MAX_ORDER_LINES) {
    throw new InvalidCommand(
      `order ${orderId} has ${command.lines.length} lines, at most ${MAX_ORDER_LINES} are allowed`,
      'too-many-lines',
      { orderId, count: command.lines.length, max: MAX_ORDER_LINES },
    );
  }
  const currency = command.lines[0].unitPrice.currency;
  const skus = new Set<string>();
  const lines = command.lines.map((line): OrderLine => {
    validateLine(orderId, line, currency);
    if (skus.has(line.sku)) {
      throw new InvalidCommand(`order ${orderId} lists ${line.sku} twice`, 'duplicate-sku', { orderId, sku: line.sku });
    }
    skus.add(line.sku);
    const { sku, name, quantity, unitPrice } = line;
    return { sku, name, quantity, unitPrice, lineTotal: { amount: unitPrice.amount * quantity, currency } };
  });
  const amount = lines.reduce((sum, line) => sum + line.lineTotal.amount, 0);
  // Beyond 2^53 minor units the sum stops being exact.
  if (!Number.isSafeInteger(amount)) {
    throw new InvalidCommand(`order ${orderId} total is too large`, 'invalid-price', { orderId });
  }
  return { type: 'OrderPlaced', data: { orderId, customerId, lines, total: { amount, currency }, paymentToken } };
}

function validateLine(orderId: string, line: PlaceOrderLine, currency: string): void {
  const { sku, quantity, unitPrice } = line;
  if (!Number.isInteger(quantity) || quantity <= 0) {
    throw new InvalidCommand(`quantity of ${sku} must be a positive integer, got ${quantity}`, 'invalid-quantity', {
      orderId,
      sku,
      quantity,
    });
  }
  if (!Number.isSafeInteger(unitPrice.amount) || unitPrice.amount < 0) {
    throw new InvalidCommand(`unit price of ${sku} must be a non-negative integer in minor units`, 'invalid-price', {
      orderId,
      sku,
      amount: unitPrice.amount,
    });
  }
  if (unitPrice.currency !== currency) {
    const message = `${sku} is priced in ${unitPrice.currency}, the order in ${currency}`;
    throw new InvalidCommand(message, 'mixed-currencies', {
      orderId,
      sku,
      currency: unitPrice.currency,
      expected: currency,
    });
  }
}

/** True when the order is at or past `target` on the happy path, counting where a cancelled order stood. */
function reached(state: Order, target: OrderStatus): boolean {
  const stood = state.status === 'cancelled' ? state.cancelledFrom : state.status;
  const at = stood === undefined || stood === 'none' ? undefined : PROGRESS[stood];
  return at !== undefined && at >= (PROGRESS[target] ?? Infinity);
}

/** A redelivered payment step must name the authorization already recorded; another one would be a second charge. */
function sameAuthorization(state: Order, command: { orderId: string; type: string; authorizationId: string }): [] {
  if (command.authorizationId !== state.payment.authorizationId) {
    throw new InvariantViolation(
      `order ${state.orderId} holds authorization ${state.payment.authorizationId}, not ${command.authorizationId}`,
      'authorization-mismatch',
      { orderId: state.orderId, authorizationId: state.payment.authorizationId, command: command.type },
    );
  }
  return [];
}

function invalidTransition(state: Order, command: OrderCommand): InvariantViolation {
  return new InvariantViolation(
    `order ${state.orderId} is ${state.status}: ${command.type} is not possible`,
    'invalid-transition',
    { orderId: state.orderId, status: state.status, command: command.type },
  );
}
