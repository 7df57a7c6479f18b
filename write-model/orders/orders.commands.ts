import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { ORDER_STREAM, orderStreamId, productStreamId, STOCK_STREAM, stockStreamId } from '../../src/contracts';
import { productDecider } from '../catalog/product.decider';
import { stockDecider } from '../inventory/stock.decider';
import { AggregateStore, CommandContext, CommandResult } from '../shared/aggregate-store';
import { InvalidCommand } from '../shared/domain-errors';
import { orderConflicts } from './order.conflicts';
import { orderDecider } from './order.decider';
import type { OrderCommand } from './order';

export const orderAggregate = (orderId: string) => ({
  id: orderId,
  streamId: orderStreamId(orderId),
  streamType: ORDER_STREAM,
  decider: orderDecider,
  conflicts: orderConflicts,
});

export class PlaceOrder extends Command<CommandResult> {
  constructor(
    readonly order: { orderId: string; customerId: string; lines: { sku: string; quantity: number }[]; paymentToken: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class CancelOrder extends Command<CommandResult> {
  constructor(
    readonly orderId: string,
    readonly reason: string,
    readonly context: CommandContext,
    /** A customer's cancel: only of an order of this customer (any other answers unknown-order). */
    readonly ownedBy?: string,
  ) {
    super();
  }
}

export class ShipOrder extends Command<CommandResult> {
  constructor(
    readonly orderId: string,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** A step of the order saga on the order itself (reserve marked, payment recorded, confirm, cancel...). */
export class AdvanceOrder extends Command<CommandResult> {
  constructor(
    readonly command: Exclude<OrderCommand, { type: 'PlaceOrder' | 'ShipOrder' }>,
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** Prices and names come from the catalog at placement and stay on the order. */
@CommandHandler(PlaceOrder)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrder, CommandResult> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ order, context }: PlaceOrder): Promise<CommandResult> {
    const target = orderAggregate(order.orderId);
    return this.aggregates.run(context, target.streamId, async (reads) => {
      const skus = [...new Set(order.lines.map((l) => l.sku))];
      const [existing, products] = await Promise.all([
        reads.load(orderDecider, target.streamId),
        // Prices and status as the catalog has them now: the append does not check the products.
        reads.loadMany(productDecider, skus.map(productStreamId), 'never'),
      ]);
      const lines = order.lines.map(({ sku, quantity }) => {
        const product = products.get(productStreamId(sku))!.state;
        if (product.status === 'unregistered') {
          throw new InvalidCommand(`product ${sku} does not exist`, 'unknown-sku', { sku });
        }
        if (product.status === 'discontinued') {
          throw new InvalidCommand(`product ${sku} is discontinued`, 'product-discontinued', { sku });
        }
        return { sku, name: product.name, quantity, unitPrice: product.price };
      });
      const { events, ...resolved } = await this.aggregates.decideOn(target, existing, { type: 'PlaceOrder', ...order, lines }, context);
      return {
        id: order.orderId,
        streamId: target.streamId,
        last: existing.last,
        ...resolved,
        appends: [{ streamId: target.streamId, streamType: ORDER_STREAM, expectedVersion: existing.version, events }],
      };
    });
  }
}

@CommandHandler(CancelOrder)
export class CancelOrderHandler implements ICommandHandler<CancelOrder, CommandResult> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ orderId, reason, context, ownedBy }: CancelOrder): Promise<CommandResult> {
    const command = { type: 'CancelOrder' as const, orderId, reason, by: 'customer' as const, ...(ownedBy !== undefined && { ownedBy }) };
    return this.aggregates.handle(orderAggregate(orderId), command, context);
  }
}

/** Shipping commits every line's reservation and marks the order shipped in one transaction. */
@CommandHandler(ShipOrder)
export class ShipOrderHandler implements ICommandHandler<ShipOrder, CommandResult> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ orderId, context }: ShipOrder): Promise<CommandResult> {
    const target = orderAggregate(orderId);
    return this.aggregates.run(context, target.streamId, async (reads) => {
      const order = await reads.load(orderDecider, target.streamId);
      const { events: shipped, ...resolved } = await this.aggregates.decideOn(target, order, { type: 'ShipOrder', orderId }, context);
      const stocks = await reads.loadMany(stockDecider, order.state.lines.map((l) => stockStreamId(l.sku)));
      const commits = order.state.lines.map(({ sku }) => {
        const stock = stocks.get(stockStreamId(sku))!;
        return {
          streamId: stockStreamId(sku),
          streamType: STOCK_STREAM,
          expectedVersion: stock.version,
          events: stockDecider.decide({ type: 'CommitStock', sku, orderId }, stock.state),
        };
      });
      return {
        id: orderId,
        streamId: target.streamId,
        last: order.last,
        ...resolved,
        appends: [{ streamId: target.streamId, streamType: ORDER_STREAM, expectedVersion: order.version, events: shipped }, ...commits],
      };
    });
  }
}

@CommandHandler(AdvanceOrder)
export class AdvanceOrderHandler implements ICommandHandler<AdvanceOrder, CommandResult> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ command, context }: AdvanceOrder): Promise<CommandResult> {
    return this.aggregates.handle(orderAggregate(command.orderId), command, context);
  }
}

export const orderCommandHandlers = [PlaceOrderHandler, CancelOrderHandler, ShipOrderHandler, AdvanceOrderHandler];

