/** Money in integer minor units; the currency is an ISO 4217 code. */
export interface Money {
  amount: number;
  currency: string;
}
