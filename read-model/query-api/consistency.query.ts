import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length } from 'class-validator';
import { CleanText } from '../../src/http/validation';

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
