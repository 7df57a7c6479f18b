import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { CleanText, NumberParam } from '../../src/http/validation';

/** `?after=<token>`: read only once the view includes that write (same as the Consistency-Token header). */
export class ConsistencyQuery {
  @ApiPropertyOptional({
    description: 'consistency token of a write to wait for (alternative to the Consistency-Token header)',
    minLength: 1,
    maxLength: 500,
  })
  @IsOptional()
  @IsString()
  @CleanText()
  @Length(1, 500)
  after?: string;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

/** A list query: consistency plus keyset pagination (`limit`, `cursor`). */
export class PageQuery extends ConsistencyQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @NumberParam()
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page', minLength: 1, maxLength: 500 })
  @IsOptional()
  @IsString()
  @CleanText()
  @Length(1, 500)
  cursor?: string;
}
