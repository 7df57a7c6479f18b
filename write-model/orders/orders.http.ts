import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { CommandContext, CommandResult } from '../shared/aggregate-store';
import { CommandResultHeaders, Context } from '../shared/command-http';
import { validationProblem } from '../../src/http/problem';
import { CancelOrder, PlaceOrder, ShipOrder } from './orders.commands';
import { CancelOrderRequest, PlaceOrderRequest } from './orders.request.dto';

const orderIdPipe = new ParseUUIDPipe({
  exceptionFactory: () => validationProblem([{ field: 'id', messages: ['order id must be a UUID'] }]),
});

@ApiTags('orders')
@Controller('orders')
@UseInterceptors(CommandResultHeaders)
export class OrdersController {
  constructor(private readonly commands: CommandBus) {}

  /** The order id is made here; with an Idempotency-Key a retry gets the first order's id back. */
  @Post()
  place(@Body() body: PlaceOrderRequest, @Context() context: CommandContext): Promise<CommandResult> {
    const { customerId, lines, paymentToken } = body;
    return this.commands.execute(
      new PlaceOrder(
        { orderId: randomUUID(), customerId, lines: lines.map(({ sku, quantity }) => ({ sku, quantity })), paymentToken },
        context,
      ),
    );
  }

  @Post(':id/cancel')
  @HttpCode(200)
  cancel(
    @Param('id', orderIdPipe) id: string,
    @Body() body: CancelOrderRequest,
    @Context() context: CommandContext,
  ): Promise<CommandResult> {
    return this.commands.execute(new CancelOrder(id, body.reason ?? 'cancelled by the customer', context));
  }

  @Post(':id/ship')
  @HttpCode(200)
  ship(@Param('id', orderIdPipe) id: string, @Context() context: CommandContext): Promise<CommandResult> {
    return this.commands.execute(new ShipOrder(id, context));
  }
}
