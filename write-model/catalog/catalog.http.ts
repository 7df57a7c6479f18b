import { Body, Controller, HttpCode, Param, Patch, Post, Put, UseInterceptors } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import type { CommandContext, CommandResult } from '../shared/aggregate-store';
import { CommandResultHeaders, Context } from '../shared/command-http';
import { ApiCommand } from '../shared/command.openapi';
import { NothingElse } from '../../src/http/validation';
import { SKU_PATTERN, SkuParam } from '../shared/request-dto';

const ApiSku = () => ApiParam({ name: 'sku', schema: { type: 'string', pattern: SKU_PATTERN.source }, example: 'MUG-001' });
import { ChangeProductPrice, DiscontinueProduct, RegisterProduct, UpdateProductDetails } from './catalog.commands';
import { ChangeProductPriceRequest, RegisterProductRequest, UpdateProductDetailsRequest } from './catalog.request.dto';

@ApiTags('catalog')
@Controller('products')
@UseInterceptors(CommandResultHeaders)
export class CatalogController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @ApiCommand({
    operationId: 'registerProduct',
    summary: 'Register a product',
    created: true,
    problems: { 409: 'the sku is already registered (`product-exists`)' },
  })
  register(@Body() body: RegisterProductRequest, @Context() context: CommandContext): Promise<CommandResult> {
    const { sku, name, description = '', price } = body;
    return this.commands.execute(
      new RegisterProduct({ type: 'RegisterProduct', sku, name, description, price: { ...price } }, context),
    );
  }

  @Patch(':sku')
  @ApiSku()
  @ApiCommand({
    operationId: 'updateProductDetails',
    summary: "Change a product's name or description",
    description: 'Fields left out keep their value; a change to nothing answers the current version and writes nothing.',
    problems: { 404: 'no product with this sku (`unknown-product`)' },
  })
  @HttpCode(200)
  updateDetails(
    @Param('sku', SkuParam) sku: string,
    @Body() body: UpdateProductDetailsRequest,
    @Context() context: CommandContext,
  ): Promise<CommandResult> {
    return this.commands.execute(new UpdateProductDetails({ type: 'UpdateProductDetails', sku, ...body }, context));
  }

  @Put(':sku/price')
  @ApiSku()
  @ApiCommand({
    operationId: 'changeProductPrice',
    summary: "Change a product's price",
    description: "The currency must stay the product's; the same price answers the current version and writes nothing.",
    problems: {
      404: 'no product with this sku (`unknown-product`)',
      409: 'the product is discontinued (`product-discontinued`) or priced in another currency (`currency-mismatch`)',
    },
  })
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
  @ApiSku()
  @ApiCommand({
    operationId: 'discontinueProduct',
    summary: 'Discontinue a product',
    description: 'A discontinued product cannot be ordered, restocked by reservation or repriced.',
    body: false,
    problems: {
      404: 'no product with this sku (`unknown-product`)',
      409: 'the product is already discontinued (`product-discontinued`)',
    },
  })
  @HttpCode(200)
  discontinue(
    @Param('sku', SkuParam) sku: string,
    @Body(NothingElse) _body: unknown,
    @Context() context: CommandContext,
  ): Promise<CommandResult> {
    return this.commands.execute(new DiscontinueProduct({ type: 'DiscontinueProduct', sku }, context));
  }
}
