import { Allowed } from '../../src/http/access';
import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import type { CommandContext } from '../shared/aggregate-store';
import { Answer, CommandAnswer, Context } from '../shared/command-http';
import { ApiCommand } from '../shared/command.openapi';
import { stockStreamId } from '../../src/contracts';
import { InvariantViolation, NotFoundError } from '../shared/domain-errors';
import { SKU_PATTERN, SkuParam } from '../shared/request-dto';
import { AdjustStock, ReceiveStock } from './inventory.commands';
import { stockConflicts } from './stock.conflicts';
import { AdjustStockRequest, ReceiveStockRequest } from './inventory.request.dto';

/** The stock commands' domain errors as the documentation shows them (the handlers raise them the same way). */
const SKU = 'MUG-001';
const STREAM = stockStreamId(SKU);
const UNKNOWN_PRODUCT = new NotFoundError(`product ${SKU} does not exist`, 'unknown-product', { sku: SKU });
const stockLeft = (reason: string, onHand: number, reserved: number, quantity: number) =>
  new InvariantViolation(`adjusting ${SKU} by ${quantity} would leave ${onHand + quantity} on hand for ${reserved} reserved`, reason, {
    sku: SKU,
    onHand,
    reserved,
    quantity,
  });

@ApiTags('inventory')
@Controller('inventory/:sku')
// The example sits in the schema: @nestjs/swagger drops a parameter's own example when it has a schema.
@ApiParam({ name: 'sku', schema: { type: 'string', pattern: SKU_PATTERN.source, example: SKU } })
export class InventoryController {
  constructor(private readonly commands: CommandBus) {}

  @Post('receipts')
  @Allowed('POST /inventory/{sku}/receipts')
  @ApiCommand({
    operationId: 'receiveStock',
    summary: 'Receive stock for a sku',
    description: "Adds to the quantity on hand. The answer's version and ETag are the sku's stock version, not the product's.",
    stream: STREAM,
    conflicts: stockConflicts.ReceiveStock,
    problems: { 404: 'no product with this sku (`unknown-product`)' },
    errors: [UNKNOWN_PRODUCT],
  })
  @HttpCode(200)
  receive(
    @Param('sku', SkuParam) sku: string,
    @Body() body: ReceiveStockRequest,
    @Context() context: CommandContext,
    @Answer() answer: Answer,
  ): Promise<CommandAnswer> {
    return answer(this.commands.execute(new ReceiveStock({ type: 'ReceiveStock', sku, quantity: body.quantity }, context)));
  }

  @Post('adjustments')
  @Allowed('POST /inventory/{sku}/adjustments')
  @ApiCommand({
    operationId: 'adjustStock',
    summary: 'Correct the stock on hand by a signed quantity',
    problems: {
      404: 'no product with this sku (`unknown-product`)',
      409: 'the adjustment would leave less on hand than zero (`negative-stock`) or than is reserved (`stock-reserved`)',
    },
    stream: STREAM,
    conflicts: stockConflicts.AdjustStock,
    errors: [UNKNOWN_PRODUCT, stockLeft('negative-stock', 23, 0, -50), stockLeft('stock-reserved', 23, 20, -5)],
  })
  @HttpCode(200)
  adjust(
    @Param('sku', SkuParam) sku: string,
    @Body() body: AdjustStockRequest,
    @Context() context: CommandContext,
    @Answer() answer: Answer,
  ): Promise<CommandAnswer> {
    const { quantity, reason } = body;
    return answer(this.commands.execute(new AdjustStock({ type: 'AdjustStock', sku, quantity, reason }, context)));
  }
}
