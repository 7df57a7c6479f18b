import { ApiProperty } from '@nestjs/swagger';
import { MoneyView } from '../query-api/view.openapi';

/** A product as GET /products answers it (ProductView without its internal sort key). */
export class ProductResponse {
  @ApiProperty({ example: 'MUG-001' })
  sku!: string;

  @ApiProperty({ example: 'Enamel mug' })
  name!: string;

  @ApiProperty({ example: 'Holds 350 ml' })
  description!: string;

  @ApiProperty({ type: MoneyView })
  price!: MoneyView;

  @ApiProperty({ enum: ['active', 'discontinued'] })
  status!: 'active' | 'discontinued';

  @ApiProperty({ type: 'integer', description: 'on hand less reserved, live from the stock stream', example: 25 })
  available!: number;

  @ApiProperty({ type: 'integer', minimum: 0, description: "the product's version (its ETag)" })
  version!: number;

  @ApiProperty({ type: 'string', format: 'date-time' })
  updatedAt!: string;
}
