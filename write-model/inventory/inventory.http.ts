import { Body, Controller, HttpCode, Param, Post, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import type { CommandContext, CommandResult } from '../shared/aggregate-store';
import { CommandResultHeaders, Context } from '../shared/command-http';
import { ApiCommand } from '../shared/command.openapi';
import { SKU_PATTERN, SkuParam } from '../shared/request-dto';
import { AdjustStock, ReceiveStock } from './inventory.commands';
import { AdjustStockRequest, ReceiveStockRequest } from './inventory.request.dto';

@ApiTags('inventory')
@Controller('inventory/:sku')
@ApiParam({ name: 'sku', schema: { type: 'string', pattern: SKU_PATTERN.source }, example: 'MUG-001' })
@UseInterceptors(CommandResultHeaders)
export class InventoryController {
  constructor(private readonly commands: CommandBus) {}

  @Post('receipts')
  @ApiCommand({
    operationId: 'receiveStock',
    summary: 'Receive stock for a sku',
    description: "Adds to the quantity on hand. The answer's version and ETag are the sku's stock version, not the product's.",
    problems: { 404: 'no product with this sku (`unknown-product`)' },
  })
  @HttpCode(200)
  receive(
    @Param('sku', SkuParam) sku: string,
    @Body() body: ReceiveStockRequest,
    @Context() context: CommandContext,
  ): Promise<CommandResult> {
    return this.commands.execute(new ReceiveStock({ type: 'ReceiveStock', sku, quantity: body.quantity }, context));
  }

  @Post('adjustments')
  @ApiCommand({
    operationId: 'adjustStock',
    summary: 'Correct the stock on hand by a signed quantity',
    problems: {
      404: 'no product with this sku (`unknown-product`)',
      409: 'the adjustment would leave less on hand than zero (`negative-stock`) or than is reserved (`stock-reserved`)',
    },
  })
  @HttpCode(200)
  adjust(
    @Param('sku', SkuParam) sku: string,
    @Body() body: AdjustStockRequest,
    @Context() context: CommandContext,
  ): Promise<CommandResult> {
    const { quantity, reason } = body;
    return this.commands.execute(new AdjustStock({ type: 'AdjustStock', sku, quantity, reason }, context));
  }
}
