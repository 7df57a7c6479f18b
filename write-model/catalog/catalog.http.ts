import { Body, Controller, HttpCode, Param, Patch, Post, Put, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiTags } from '@nestjs/swagger';
import type { CommandContext, CommandResult } from '../shared/aggregate-store';
import { CommandResultHeaders, Context } from '../shared/command-http';
import { SkuParam } from '../shared/request-dto';
import { ChangeProductPrice, DiscontinueProduct, RegisterProduct, UpdateProductDetails } from './catalog.commands';
import { ChangeProductPriceRequest, RegisterProductRequest, UpdateProductDetailsRequest } from './catalog.request.dto';

@ApiTags('catalog')
@Controller('products')
@UseInterceptors(CommandResultHeaders)
export class CatalogController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  register(@Body() body: RegisterProductRequest, @Context() context: CommandContext): Promise<CommandResult> {
    const { sku, name, description = '', price } = body;
    return this.commands.execute(
      new RegisterProduct({ type: 'RegisterProduct', sku, name, description, price: { ...price } }, context),
    );
  }

  @Patch(':sku')
  @HttpCode(200)
  updateDetails(
    @Param('sku', SkuParam) sku: string,
    @Body() body: UpdateProductDetailsRequest,
    @Context() context: CommandContext,
  ): Promise<CommandResult> {
    return this.commands.execute(new UpdateProductDetails({ type: 'UpdateProductDetails', sku, ...body }, context));
  }

  @Put(':sku/price')
  @HttpCode(200)
  changePrice(
    @Param('sku', SkuParam) sku: string,
    @Body() body: ChangeProductPriceRequest,
    @Context() context: CommandContext,
  ): Promise<CommandResult> {
    return this.commands.execute(
      new ChangeProductPrice({ type: 'ChangeProductPrice', sku, price: { ...body.price } }, context),
    );
  }

  @Post(':sku/discontinue')
  @HttpCode(200)
  discontinue(@Param('sku', SkuParam) sku: string, @Context() context: CommandContext): Promise<CommandResult> {
    return this.commands.execute(new DiscontinueProduct({ type: 'DiscontinueProduct', sku }, context));
  }
}
