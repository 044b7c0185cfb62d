/** An OpenAI-like vendor with one chat operation (rpm + tpm), as the repeat tests use it. */
export const chatVendor = {
  name: 'openai',
  allowedPaths: ['/v1/chat/completions'],
  operations: {
    chat: {
      method: 'POST' as const,
      path: '/v1/chat/completions',
      dimensions: { 'openai#rpm': 1, 'openai#tpm': 500 },
    },
  },
  policy: { requeueJitterSeconds: 0, maxVendorRetries: 2 },
};

export const chat = (id: string) => ({
  id,
  operation: 'chat',
  tokenEstimate: 100,
  body: { model: 'm', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] },
});
