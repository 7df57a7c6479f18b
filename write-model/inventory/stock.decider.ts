import { InvariantViolation } from '../shared/domain-errors';
import type { Decider } from '../shared/decider';
import { available, InventoryEvent, Stock, StockCommand } from './stock';

export const stockDecider: Decider<Stock, StockCommand, InventoryEvent> = {
  initialState: () => ({ sku: '', onHand: 0, reserved: 0, reservations: {} }),
  snapshot: { version: 1 },

  decide(command, state) {
    const { sku } = command;
    const levels = (onHand: number, reserved: number) => ({ sku, onHand, reserved });
    switch (command.type) {
      case 'ReceiveStock':
        return [
          {
            type: 'StockReceived',
            data: { ...levels(state.onHand + command.quantity, state.reserved), quantity: command.quantity },
          },
        ];
      case 'AdjustStock': {
        const onHand = state.onHand + command.quantity;
        if (onHand < state.reserved) {
          throw new InvariantViolation(
            `adjusting ${sku} by ${command.quantity} would leave ${onHand} on hand for ${state.reserved} reserved`,
            onHand < 0 ? 'negative-stock' : 'stock-reserved',
            { sku, onHand: state.onHand, reserved: state.reserved, quantity: command.quantity },
          );
        }
        return [
          {
            type: 'StockAdjusted',
            data: { ...levels(onHand, state.reserved), quantity: command.quantity, reason: command.reason },
          },
        ];
      }
      case 'ReserveStock': {
        const existing = state.reservations[command.orderId];
        if (existing) {
          // A redelivered reservation is answered by the first one; a different one is a conflict.
          if (existing.quantity === command.quantity) return [];
          throw new InvariantViolation(
            `order ${command.orderId} already holds a reservation of ${existing.quantity} ${sku}`,
            'reservation-exists',
            { sku, orderId: command.orderId, quantity: existing.quantity },
          );
        }
        if (command.productDiscontinued) {
          throw new InvariantViolation(`product ${sku} is discontinued`, 'product-discontinued', { sku });
        }
        if (available(state) < command.quantity) {
          throw new InvariantViolation(
            `only ${available(state)} of ${sku} available, ${command.quantity} requested`,
            'insufficient-stock',
            { sku, available: available(state), requested: command.quantity },
          );
        }
        return [
          {
            type: 'StockReserved',
            data: {
              ...levels(state.onHand, state.reserved + command.quantity),
              orderId: command.orderId,
              quantity: command.quantity,
            },
          },
        ];
      }
      case 'ReleaseStock': {
        const reservation = state.reservations[command.orderId];
        // Releasing what is not reserved (never, or no longer) changes nothing: compensation must be safe to repeat.
        if (!reservation) return [];
        return [
          {
            type: 'StockReleased',
            data: {
              ...levels(state.onHand, state.reserved - reservation.quantity),
              orderId: command.orderId,
              quantity: reservation.quantity,
            },
          },
        ];
      }
      case 'CommitStock': {
        const reservation = state.reservations[command.orderId];
        if (!reservation) {
          throw new InvariantViolation(`order ${command.orderId} holds no reservation on ${sku}`, 'no-reservation', {
            sku,
            orderId: command.orderId,
          });
        }
        return [
          {
            type: 'StockCommitted',
            data: {
              ...levels(state.onHand - reservation.quantity, state.reserved - reservation.quantity),
              orderId: command.orderId,
              quantity: reservation.quantity,
            },
          },
        ];
      }
    }
  },

  evolve(state, event) {
    const next = { ...state, sku: event.data.sku, onHand: event.data.onHand, reserved: event.data.reserved };
    switch (event.type) {
      case 'StockReserved':
        return { ...next, reservations: { ...state.reservations, [event.data.orderId]: { quantity: event.data.quantity } } };
      case 'StockReleased':
      case 'StockCommitted': {
        const { orderId } = event.data;
        return { ...next, reservations: Object.fromEntries(Object.entries(state.reservations).filter(([id]) => id !== orderId)) };
      }
      default:
        return next;
    }
  },
};
