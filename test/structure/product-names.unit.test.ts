import { PRODUCT_NAME_PATTERN } from '../../lambda/producer/outcome';
import { PRODUCT_PATTERN } from '../../lambda/sluice';

/**
 * The SDK's product label and the producer's product name are one rule written in two places
 * (the producer must not load the SDK's DynamoDB client to get it): they must not drift apart.
 */
describe('product names', () => {
  it('the acquire label and the routed product name follow the same rule', () => {
    expect(PRODUCT_PATTERN.source).toBe(PRODUCT_NAME_PATTERN.source);
    expect(PRODUCT_PATTERN.flags).toBe(PRODUCT_NAME_PATTERN.flags);
  });
});
