import { Allowed } from '../../src/http/access';
import { Body, Controller, HttpCode, Param, Patch, Post, Put } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiParam, ApiTags } from '@nestjs/swagger';
import type { CommandContext } from '../shared/aggregate-store';
import { Answer, CommandAnswer, Context } from '../shared/command-http';
import { ApiCommand } from '../shared/command.openapi';
import { NothingElse } from '../../src/http/validation';
import { productStreamId } from '../../src/contracts';
import { EditConflict } from '../shared/conflict-policy';
import { InvariantViolation, NotFoundError } from '../shared/domain-errors';
import { SKU_PATTERN, SkuParam } from '../shared/request-dto';
import { ChangeProductPrice, DiscontinueProduct, RegisterProduct, UpdateProductDetails } from './catalog.commands';
import { productConflicts } from './product.conflicts';
import { ChangeProductPriceRequest, RegisterProductRequest, UpdateProductDetailsRequest } from './catalog.request.dto';

const SKU = 'MUG-001';
// The example sits in the schema: @nestjs/swagger drops a parameter's own example when it has a schema.
const ApiSku = () => ApiParam({ name: 'sku', schema: { type: 'string', pattern: SKU_PATTERN.source, example: SKU } });

/** The catalog's domain errors as the documentation shows them (the deciders raise them the same way). */
const STREAM = productStreamId(SKU);
const UNKNOWN_PRODUCT = new NotFoundError(`product ${SKU} does not exist`, 'unknown-product', { sku: SKU });
const DISCONTINUED = new InvariantViolation(`product ${SKU} is discontinued`, 'product-discontinued', { sku: SKU });
const EDIT_CONFLICT = new EditConflict(
  [{ field: 'name', requested: 'Mug, large', current: 'Mug, 350 ml', changedInVersion: 4, changedBy: 'alice' }],
  { expectedVersion: 3, currentVersion: 4 },
  { sku: SKU },
);
const DISCONTINUED_SINCE = new InvariantViolation(
  `product ${SKU} was discontinued in version 4 by alice after version 3; discontinuation wins over detail edits`,
  'product-discontinued',
  { sku: SKU, expectedVersion: 3, currentVersion: 4, discontinuedInVersion: 4, discontinuedBy: 'alice' },
);

@ApiTags('catalog')
@Controller('products')
export class CatalogController {
  constructor(private readonly commands: CommandBus) {}

  @Post()
  @Allowed('POST /products')
  @ApiCommand({
    operationId: 'registerProduct',
    summary: 'Register a product',
    created: true,
    stream: productStreamId('LAMP-01'),
    conflicts: productConflicts.RegisterProduct,
    problems: { 409: 'the sku is already registered (`product-exists`)' },
    errors: [new InvariantViolation('product LAMP-01 is already registered', 'product-exists', { sku: 'LAMP-01' })],
  })
  register(@Body() body: RegisterProductRequest, @Context() context: CommandContext, @Answer() answer: Answer): Promise<CommandAnswer> {
    const { sku, name, description = '', price } = body;
    return answer(
      this.commands.execute(new RegisterProduct({ type: 'RegisterProduct', sku, name, description, price: { ...price } }, context)),
    );
  }

  @Patch(':sku')
  @Allowed('PATCH /products/{sku}')
  @ApiSku()
  @ApiCommand({
    operationId: 'updateProductDetails',
    summary: "Change a product's name or description",
    description: 'Fields left out keep their value; a change to nothing answers the current version and writes nothing.',
    stream: STREAM,
    conflicts: productConflicts.UpdateProductDetails,
    problems: {
      404: 'no product with this sku (`unknown-product`)',
      409: 'the product was discontinued after your If-Match version (`product-discontinued`)',
    },
    errors: [UNKNOWN_PRODUCT, EDIT_CONFLICT, DISCONTINUED_SINCE],
  })
  @HttpCode(200)
  updateDetails(
    @Param('sku', SkuParam) sku: string,
    @Body() body: UpdateProductDetailsRequest,
    @Context() context: CommandContext,
    @Answer() answer: Answer,
  ): Promise<CommandAnswer> {
    return answer(this.commands.execute(new UpdateProductDetails({ type: 'UpdateProductDetails', sku, ...body }, context)));
  }

  @Put(':sku/price')
  @Allowed('PUT /products/{sku}/price')
  @ApiSku()
  @ApiCommand({
    operationId: 'changeProductPrice',
    summary: "Change a product's price",
    description: "The currency must stay the product's; the same price answers the current version and writes nothing.",
    problems: {
      404: 'no product with this sku (`unknown-product`)',
      409: 'the product is discontinued (`product-discontinued`) or priced in another currency (`currency-mismatch`)',
    },
    stream: STREAM,
    conflicts: productConflicts.ChangeProductPrice,
    errors: [
      UNKNOWN_PRODUCT,
      DISCONTINUED,
      new InvariantViolation(`product ${SKU} is priced in EUR, not USD`, 'currency-mismatch', { sku: SKU, currency: 'EUR' }),
    ],
  })
  @HttpCode(200)
  changePrice(
    @Param('sku', SkuParam) sku: string,
    @Body() body: ChangeProductPriceRequest,
    @Context() context: CommandContext,
    @Answer() answer: Answer,
  ): Promise<CommandAnswer> {
    return answer(this.commands.execute(new ChangeProductPrice({ type: 'ChangeProductPrice', sku, price: { ...body.price } }, context)));
  }

  @Post(':sku/discontinue')
  @Allowed('POST /products/{sku}/discontinue')
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
    stream: STREAM,
    conflicts: productConflicts.DiscontinueProduct,
    errors: [UNKNOWN_PRODUCT, DISCONTINUED],
  })
  @HttpCode(200)
  discontinue(
    @Param('sku', SkuParam) sku: string,
    @Body(NothingElse) _body: unknown,
    @Context() context: CommandContext,
    @Answer() answer: Answer,
  ): Promise<CommandAnswer> {
    return answer(this.commands.execute(new DiscontinueProduct({ type: 'DiscontinueProduct', sku }, context)));
  }
}
