import { PageQuery } from '../query-api/consistency.query';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { CleanText, NumberParam } from '../../src/http/validation';

export const PRODUCT_SORTS = ['name', '-name', 'price', '-price'] as const;

/** GET /products query: every parameter typed and bounded; anything else is a 400. */
export class ListProductsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['active', 'discontinued'] })
  @IsOptional()
  @IsIn(['active', 'discontinued'])
  status?: 'active' | 'discontinued';

  @ApiPropertyOptional({ description: 'text in the name (case-insensitive)', minLength: 1, maxLength: 100 })
  @IsOptional()
  @IsString()
  @CleanText()
  @Length(1, 100)
  q?: string;

  @ApiPropertyOptional({ type: 'integer', description: 'minimum price in minor units', minimum: 0 })
  @IsOptional()
  @NumberParam()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  minPrice?: number;

  @ApiPropertyOptional({ type: 'integer', description: 'maximum price in minor units', minimum: 0 })
  @IsOptional()
  @NumberParam()
  @IsInt()
  @Min(0)
  @Max(Number.MAX_SAFE_INTEGER)
  maxPrice?: number;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'only products with (or without) available stock' })
  @IsOptional()
  @IsIn(['true', 'false'])
  inStock?: 'true' | 'false';

  @ApiPropertyOptional({ enum: PRODUCT_SORTS, default: 'name' })
  @IsOptional()
  @IsIn(PRODUCT_SORTS)
  sort?: (typeof PRODUCT_SORTS)[number];
}
