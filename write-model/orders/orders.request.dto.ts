import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsString,
  Length,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { PAYMENT_TOKEN_PATTERN, PAYMENT_TOKENS, SKU_PATTERN } from '../../src/contracts';
import { CleanText, OptionalField } from '../../src/http/validation';
import { MAX_ORDER_LINES } from './order';

export const MAX_LINE_QUANTITY = 1000;

export class OrderLineRequest {
  @ApiProperty({ example: 'MUG-001', pattern: SKU_PATTERN.source })
  @IsString()
  @Matches(SKU_PATTERN, { message: 'sku must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit' })
  sku!: string;

  @ApiProperty({ example: 2, minimum: 1, maximum: MAX_LINE_QUANTITY })
  @IsInt()
  @Min(1)
  @Max(MAX_LINE_QUANTITY)
  quantity!: number;
}

export const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class PlaceOrderRequest {
  @ApiPropertyOptional({
    example: 'cust-42',
    pattern: CUSTOMER_ID.source,
    description: "required for staff (admin) ordering on a customer's behalf; a customer's token may leave it out or must send its own subject",
  })
  @OptionalField()
  @IsString()
  @Matches(CUSTOMER_ID, { message: 'customerId must be 1-64 letters, digits, "_" or "-"' })
  customerId?: string;

  @ApiProperty({ type: [OrderLineRequest], minItems: 1, maxItems: MAX_ORDER_LINES })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_ORDER_LINES)
  @ArrayUnique((line: OrderLineRequest) => line?.sku, { message: 'lines must name each sku once' })
  @ValidateNested({ each: true })
  @Type(() => OrderLineRequest)
  lines!: OrderLineRequest[];

  @ApiProperty({ example: 'tok_approve', description: `simulator tokens: ${PAYMENT_TOKENS.join(', ')}` })
  @IsString()
  @Matches(PAYMENT_TOKEN_PATTERN, { message: 'paymentToken must look like tok_<letters, digits or _>' })
  paymentToken!: string;
}

export class CancelOrderRequest {
  @ApiPropertyOptional({ example: 'changed my mind', maxLength: 200 })
  @OptionalField()
  @IsString()
  @CleanText()
  @Length(1, 200)
  reason?: string;
}
