import { Body, Controller, HttpCode, Param, Post, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { CommandContext, CommandResult } from '../shared/aggregate-store';
import { CommandResultHeaders, Context } from '../shared/command-http';
import { SkuParam } from '../shared/request-dto';
import { AdjustStock, ReceiveStock } from './inventory.commands';
import { AdjustStockRequest, ReceiveStockRequest } from './inventory.request.dto';

@ApiTags('inventory')
@Controller('inventory/:sku')
@UseInterceptors(CommandResultHeaders)
export class InventoryController {
  constructor(private readonly commands: CommandBus) {}

  @Post('receipts')
  @HttpCode(200)
  receive(
    @Param('sku', SkuParam) sku: string,
    @Body() body: ReceiveStockRequest,
    @Context() context: CommandContext,
  ): Promise<CommandResult> {
    return this.commands.execute(new ReceiveStock({ type: 'ReceiveStock', sku, quantity: body.quantity }, context));
  }

  @Post('adjustments')
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
