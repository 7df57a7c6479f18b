import { Injectable, PipeTransform } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { SKU_PATTERN } from '../../src/contracts';
import { validationProblem } from '../../src/http/problem';

export { SKU_PATTERN };

export const MAX_AMOUNT = 100_000_000_00; // 100 million in minor units: far above any price, far below 2^53
export const MAX_QUANTITY = 1_000_000;

export class MoneyRequest {
  // 0 is refused: a free product could never be paid for (the payment step authorizes a positive amount).
  @ApiProperty({ description: 'integer minor units (cents), at least 1', example: 1299, minimum: 1, maximum: MAX_AMOUNT })
  @IsInt()
  @Min(1, { message: 'amount must be a positive integer (minor units): 0 is not a price' })
  @Max(MAX_AMOUNT)
  amount!: number;

  @ApiProperty({ description: 'ISO 4217 code', example: 'EUR', pattern: '^[A-Z]{3}$' })
  @IsString()
  @Matches(/^[A-Z]{3}$/, { message: 'currency must be a three-letter ISO 4217 code such as EUR' })
  currency!: string;
}

/** Validates a sku path parameter before any handler sees it. */
@Injectable()
export class SkuParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!SKU_PATTERN.test(value)) {
      throw validationProblem([
        { field: 'sku', messages: ['sku must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit'] },
      ]);
    }
    return value;
  }
}
