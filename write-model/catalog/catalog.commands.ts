import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Money, PRODUCT_STREAM, productStreamId } from '../../src/contracts';
import { AggregateStore, CommandContext, CommandResult } from '../shared/aggregate-store';
import { productConflicts } from './product.conflicts';
import { productDecider } from './product.decider';
import type { ProductCommand } from './product';

export const productAggregate = (sku: string) => ({
  id: sku,
  streamId: productStreamId(sku),
  streamType: PRODUCT_STREAM,
  decider: productDecider,
  conflicts: productConflicts,
});

abstract class ProductBusCommand extends Command<CommandResult> {
  abstract readonly command: ProductCommand;
  abstract readonly context: CommandContext;
}

export class RegisterProduct extends ProductBusCommand {
  constructor(
    readonly command: { type: 'RegisterProduct'; sku: string; name: string; description: string; price: Money },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class UpdateProductDetails extends ProductBusCommand {
  constructor(
    readonly command: { type: 'UpdateProductDetails'; sku: string; name?: string; description?: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class ChangeProductPrice extends ProductBusCommand {
  constructor(
    readonly command: { type: 'ChangeProductPrice'; sku: string; price: Money },
    readonly context: CommandContext,
  ) {
    super();
  }
}

export class DiscontinueProduct extends ProductBusCommand {
  constructor(
    readonly command: { type: 'DiscontinueProduct'; sku: string },
    readonly context: CommandContext,
  ) {
    super();
  }
}

/** Every catalog command is load → decide → append on the product's stream. */
@Injectable()
abstract class ProductCommandHandler implements ICommandHandler<ProductBusCommand, CommandResult> {
  constructor(private readonly aggregates: AggregateStore) {}

  execute({ command, context }: ProductBusCommand): Promise<CommandResult> {
    return this.aggregates.handle(productAggregate(command.sku), command, context);
  }
}

/** @nestjs/cqrs routes one command class to one handler class. */
@CommandHandler(RegisterProduct)
export class RegisterProductHandler extends ProductCommandHandler {}
@CommandHandler(UpdateProductDetails)
export class UpdateProductDetailsHandler extends ProductCommandHandler {}
@CommandHandler(ChangeProductPrice)
export class ChangeProductPriceHandler extends ProductCommandHandler {}
@CommandHandler(DiscontinueProduct)
export class DiscontinueProductHandler extends ProductCommandHandler {}

export const catalogCommandHandlers = [RegisterProductHandler, UpdateProductDetailsHandler, ChangeProductPriceHandler, DiscontinueProductHandler];
