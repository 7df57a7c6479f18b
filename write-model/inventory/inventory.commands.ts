import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { PRODUCT_STREAM, productStreamId, STOCK_STREAM, stockStreamId } from '../../src/contracts';
import { productDecider } from '../catalog/product.decider';
import { AggregateStore, CommandContext, CommandResult } from '../shared/aggregate-store';
import { NotFoundError } from '../shared/domain-errors';
import { stockConflicts } from './stock.conflicts';
import { stockDecider } from './stock.decider';
import type { StockCommand } from './stock';

export const stockAggregate = (sku: string) => ({
  id: sku,
  streamId: stockStreamId(sku),
  streamType: STOCK_STREAM,
  decider: stockDecider,
  conflicts: stockConflicts,
});

/** A stock command as sent: the handler adds what it reads from the catalog. */
type StockInstruction = Exclude<StockCommand, { type: 'ReserveStock' }> | Omit<Extract<StockCommand, { type: 'ReserveStock' }>, 'productDiscontinued'>;

abstract class InventoryCommand extends Command<CommandResult> {
  abstract readonly command: StockInstruction;
  abstract readonly context: CommandContext;
}

export class ReceiveStock extends InventoryCommand {
  constructor(
    readonly command: { type: 'ReceiveStock'; sku: string; quantity: number },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class AdjustStock extends InventoryCommand {
  constructor(
    readonly command: { type: 'AdjustStock'; sku: string; quantity: number; reason: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class ReserveStock extends InventoryCommand {
  constructor(
    readonly command: { type: 'ReserveStock'; sku: string; orderId: string; quantity: number },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class ReleaseStock extends InventoryCommand {
  constructor(
    readonly command: { type: 'ReleaseStock'; sku: string; orderId: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class CommitStock extends InventoryCommand {
  constructor(
    readonly command: { type: 'CommitStock'; sku: string; orderId: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}

/**
 * Stock commands act on the sku's stock stream, and only for a registered product. For a
 * reservation the product stream is checked unchanged at append, so it can never slip past
 * a concurrent discontinuation.
 */
@Injectable()
abstract class StockCommandHandler implements ICommandHandler<InventoryCommand, CommandResult> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ command, context }: InventoryCommand): Promise<CommandResult> {
    const { sku } = command;
    return this.aggregates.run(context, stockStreamId(sku), async (reads) => {
      const [product, stock] = await reads.loadPair(
        // A kept product serves: a reservation checks its version, and the other commands only need it registered, which it stays.
        { decider: productDecider, streamId: productStreamId(sku), kept: 'settled' },
        { decider: stockDecider, streamId: stockStreamId(sku) },
      );
      if (product.state.status === 'unregistered') {
        throw new NotFoundError(`product ${sku} does not exist`, 'unknown-product', { sku });
      }
      const full: StockCommand =
        command.type === 'ReserveStock'
          ? { ...command, productDiscontinued: product.state.status === 'discontinued' }
          : command;
      const { events, ...resolved } = await this.aggregates.decideOn(stockAggregate(sku), stock, full, context);
      return {
        id: sku,
        streamId: stockStreamId(sku),
        last: stock.last,
        ...resolved,
        appends: [
          { streamId: stockStreamId(sku), streamType: STOCK_STREAM, expectedVersion: stock.version, events },
          ...(command.type === 'ReserveStock'
            ? [{ streamId: productStreamId(sku), streamType: PRODUCT_STREAM, expectedVersion: product.version, events: [] }]
            : []),
        ],
      };
    });
  }
}

/** @nestjs/cqrs routes one command class to one handler class. */
@CommandHandler(ReceiveStock)
export class ReceiveStockHandler extends StockCommandHandler {}
@CommandHandler(AdjustStock)
export class AdjustStockHandler extends StockCommandHandler {}
@CommandHandler(ReserveStock)
export class ReserveStockHandler extends StockCommandHandler {}
@CommandHandler(ReleaseStock)
export class ReleaseStockHandler extends StockCommandHandler {}
@CommandHandler(CommitStock)
export class CommitStockHandler extends StockCommandHandler {}

export const inventoryCommandHandlers = [ReceiveStockHandler, AdjustStockHandler, ReserveStockHandler, ReleaseStockHandler, CommitStockHandler];
