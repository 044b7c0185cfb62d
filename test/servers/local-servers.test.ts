import { assertJava, startDynamoDbLocal } from '../../local/servers/dynamodb-local';
import { startFauxqs } from '../../local/servers/fauxqs';
import { canConnect } from '../../local/servers/process';

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('local servers', () => {
  it('starts DynamoDB Local on a free loopback port and leaves neither process nor port behind', async () => {
    const server = await startDynamoDbLocal();
    try {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const answer = await fetch(server.endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request',
        },
        body: '{}',
      });
      expect(await answer.json()).toEqual({ TableNames: [] });
    } finally {
      await server.stop();
    }
    expect(processExists(server.pid)).toBe(false);
    expect(await canConnect(server.endpoint)).toBe(false);
  });

  it('starts fauxqs speaking the SQS JSON protocol and stops it cleanly', async () => {
    const server = await startFauxqs();
    try {
      const answer = await fetch(server.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.ListQueues' },
        body: '{}',
      });
      expect(answer.status).toBe(200);
    } finally {
      await server.stop();
    }
    expect(processExists(server.pid)).toBe(false);
    expect(await canConnect(server.endpoint)).toBe(false);
  });

  it('says what to install when Java is missing', () => {
    expect(() => assertJava({ PATH: '/nonexistent' })).toThrow(
      'Java was not found on PATH. DynamoDB Local needs a Java runtime 17 or newer: ' +
        'install it (Debian: `apt-get install openjdk-17-jre-headless`) and try again.',
    );
  });
});
