import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiParam, ApiTags } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { CommandContext } from '../shared/aggregate-store';
import { Answer, CommandAnswer, Context } from '../shared/command-http';
import { ApiCommand } from '../shared/command.openapi';
import { Allowed, Caller } from '../../src/http/access';
import { problemType, ProblemException, validationProblem } from '../../src/http/problem';
import type { Identity } from '../../src/identity/roles';
import { NothingElse } from '../../src/http/validation';
import { orderStreamId } from '../../src/contracts';
import { InvalidCommand, InvariantViolation, NotFoundError } from '../shared/domain-errors';
import { orderConflicts } from './order.conflicts';
import { CancelOrder, PlaceOrder, ShipOrder } from './orders.commands';
import { CancelOrderRequest, CUSTOMER_ID, PlaceOrderRequest } from './orders.request.dto';

/** The order commands' domain errors as the documentation shows them (the decider raises them the same way). */
const ORDER_ID = '0b6f3c52-9d4e-4b8a-a1f7-5f2c8e9d7a31';
const STREAM = orderStreamId(ORDER_ID);
const UNKNOWN_ORDER = new NotFoundError(`order ${ORDER_ID} does not exist`, 'unknown-order', { orderId: ORDER_ID });
const invalidTransition = (status: string, command: string) =>
  new InvariantViolation(`order ${ORDER_ID} is ${status}: ${command} is not possible`, 'invalid-transition', {
    orderId: ORDER_ID,
    status,
    command,
  });

const orderIdPipe = new ParseUUIDPipe({
  exceptionFactory: () => validationProblem([{ field: 'id', messages: ['order id must be a UUID'] }]),
});

/** A customer orders in its own name (customerId may be left out); staff name the customer. */
function customerOf(body: PlaceOrderRequest, caller: Identity): string {
  if (caller.role !== 'customer') {
    if (body.customerId === undefined) {
      throw validationProblem([{ field: 'customerId', messages: ['customerId is required when ordering on behalf of a customer'] }]);
    }
    return body.customerId;
  }
  if (body.customerId !== undefined && body.customerId !== caller.subject) {
    throw new ProblemException({
      type: problemType('forbidden'),
      title: 'Forbidden',
      status: 403,
      detail: 'a customer places orders in its own name only: leave customerId out or send your own',
    });
  }
  if (!CUSTOMER_ID.test(caller.subject)) {
    throw validationProblem([
      { field: 'customerId', messages: ['the token\'s subject is not a valid customer id (1-64 letters, digits, "_" or "-")'] },
    ]);
  }
  return caller.subject;
}

const ApiOrderId = () => ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } });

@ApiTags('orders')
@Controller('orders')
export class OrdersController {
  constructor(private readonly commands: CommandBus) {}

  /** The order id is made here; with an Idempotency-Key a retry gets the first order's id back. */
  @Post()
  @Allowed('POST /orders')
  @ApiCommand({
    operationId: 'placeOrder',
    summary: 'Place an order',
    description:
      'Names and prices come from the catalog now. The order saga then reserves stock, authorizes the payment and ' +
      'confirms (or rejects and cancels); follow it on GET /orders/{id} of the query API.',
    created: true,
    ifMatch: false,
    stream: STREAM,
    problems: {
      422: 'a line names an unknown (`unknown-sku`) or discontinued (`product-discontinued`) product, currencies mix, or the total is too large',
    },
    errors: [
      new InvalidCommand('product LAMP-99 does not exist', 'unknown-sku', { sku: 'LAMP-99' }),
      new InvalidCommand('product SOCKS-OLD is discontinued', 'product-discontinued', { sku: 'SOCKS-OLD' }),
    ],
  })
  place(
    @Body() body: PlaceOrderRequest,
    @Context() context: CommandContext,
    @Caller() caller: Identity,
    @Answer() answer: Answer,
  ): Promise<CommandAnswer> {
    const { lines, paymentToken } = body;
    const customerId = customerOf(body, caller);
    return answer(
      this.commands.execute(
        new PlaceOrder(
          { orderId: randomUUID(), customerId, lines: lines.map(({ sku, quantity }) => ({ sku, quantity })), paymentToken },
          context,
        ),
      ),
    );
  }

  @Post(':id/cancel')
  @Allowed('POST /orders/{id}/cancel')
  @ApiOrderId()
  @ApiBody({ type: CancelOrderRequest, required: false, description: 'optional: without a body the reason is "cancelled by the customer"' })
  @ApiCommand({
    operationId: 'cancelOrder',
    summary: 'Cancel an order',
    description: 'Releases its reservations and refunds an authorized payment.',
    problems: {
      404: 'no order with this id (`unknown-order`)',
      409: 'the order is shipped, rejected or already cancelled (`invalid-transition`, with `currentStatus`)',
    },
    stream: STREAM,
    conflicts: orderConflicts.CancelOrder,
    errors: [UNKNOWN_ORDER, invalidTransition('shipped', 'CancelOrder')],
  })
  @HttpCode(200)
  cancel(
    @Param('id', orderIdPipe) id: string,
    @Body() body: CancelOrderRequest,
    @Context() context: CommandContext,
    @Caller() caller: Identity,
    @Answer() answer: Answer,
  ): Promise<CommandAnswer> {
    const ownedBy = caller.role === 'customer' ? caller.subject : undefined;
    return answer(this.commands.execute(new CancelOrder(id, body.reason ?? 'cancelled by the customer', context, ownedBy)));
  }

  @Post(':id/ship')
  @Allowed('POST /orders/{id}/ship')
  @ApiOrderId()
  @ApiCommand({
    operationId: 'shipOrder',
    summary: 'Ship a confirmed order',
    description: 'Commits every reservation of the order and marks it shipped, in one transaction.',
    body: false,
    problems: {
      404: 'no order with this id (`unknown-order`)',
      409: 'the order is not confirmed (`invalid-transition`, with `currentStatus`)',
    },
    stream: STREAM,
    conflicts: orderConflicts.ShipOrder,
    errors: [UNKNOWN_ORDER, invalidTransition('pending', 'ShipOrder')],
  })
  @HttpCode(200)
  ship(
    @Param('id', orderIdPipe) id: string,
    @Body(NothingElse) _body: unknown,
    @Context() context: CommandContext,
    @Answer() answer: Answer,
  ): Promise<CommandAnswer> {
    return answer(this.commands.execute(new ShipOrder(id, context)));
  }
}
