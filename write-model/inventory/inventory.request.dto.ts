import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Length, Max, Min, NotEquals } from 'class-validator';
import { CleanText } from '../../src/http/validation';
import { MAX_QUANTITY } from '../shared/request-dto';

export class ReceiveStockRequest {
  @ApiProperty({ example: 25, minimum: 1, maximum: MAX_QUANTITY })
  @IsInt()
  @Min(1)
  @Max(MAX_QUANTITY)
  quantity!: number;
}

export class AdjustStockRequest {
  @ApiProperty({ description: 'signed: negative removes stock', example: -2, minimum: -MAX_QUANTITY, maximum: MAX_QUANTITY })
  @IsInt()
  @Min(-MAX_QUANTITY)
  @Max(MAX_QUANTITY)
  @NotEquals(0)
  quantity!: number;

  @ApiProperty({ example: 'damaged in storage', minLength: 1, maxLength: 200 })
  @IsString()
  @CleanText()
  @Length(1, 200)
  reason!: string;
}
