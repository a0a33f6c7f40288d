// Test event templates for the common sources (payload shapes of ../shared/spec/events.md).

const ARN = "arn:aws:";
const NOW = "2026-01-01T00:00:00.000Z";

export const TEMPLATES = {
  "hello-world": { key1: "value1", key2: "value2", key3: "value3" },
  "sqs": {
    Records: [
      {
        messageId: "059f36b4-87a3-44ab-83d2-661975830a7d",
        receiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
        body: "Hello from SQS!",
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: "1767225600000",
          SenderId: "000000000000",
          ApproximateFirstReceiveTimestamp: "1767225600001",
        },
        messageAttributes: {},
        md5OfBody: "e4e68fb7bd0e697a0ae8f1bb342846b3",
        eventSource: "aws:sqs",
        eventSourceARN: `${ARN}sqs:us-east-1:000000000000:my-queue`,
        awsRegion: "us-east-1",
      },
    ],
  },
  "sns": {
    Records: [
      {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: `${ARN}sns:us-east-1:000000000000:my-topic:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
        Sns: {
          Type: "Notification",
          MessageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
          TopicArn: `${ARN}sns:us-east-1:000000000000:my-topic`,
          Subject: "example subject",
          Message: "example message",
          Timestamp: NOW,
          SignatureVersion: "1",
          MessageAttributes: {},
        },
      },
    ],
  },
  "s3-put": {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: NOW,
        eventName: "ObjectCreated:Put",
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "testConfigRule",
          bucket: { name: "example-bucket", arn: `${ARN}s3:::example-bucket` },
          object: { key: "test/key", size: 1024, eTag: "0123456789abcdef0123456789abcdef", sequencer: "0A1B2C3D4E5F678901" },
        },
      },
    ],
  },
  "eventbridge": {
    version: "0",
    id: "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    source: "aws.events",
    account: "000000000000",
    time: NOW,
    region: "us-east-1",
    resources: [`${ARN}events:us-east-1:000000000000:rule/my-rule`],
    detail: {},
  },
  "apigateway-http": {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/my/path",
    rawQueryString: "parameter1=value1",
    headers: { "content-type": "application/json", host: "abc123.execute-api.localhost" },
    requestContext: {
      accountId: "000000000000",
      apiId: "abc123",
      domainName: "abc123.execute-api.localhost",
      http: { method: "POST", path: "/my/path", protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "agent" },
      requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
      routeKey: "$default",
      stage: "$default",
      time: "01/Jan/2026:00:00:00 +0000",
      timeEpoch: 1767225600000,
    },
    body: '{"hello":"world"}',
    isBase64Encoded: false,
  },
  "apigateway-rest": {
    resource: "/{proxy+}",
    path: "/path/to/resource",
    httpMethod: "POST",
    headers: { "Content-Type": "application/json" },
    queryStringParameters: { foo: "bar" },
    pathParameters: { proxy: "path/to/resource" },
    requestContext: { accountId: "000000000000", stage: "prod", httpMethod: "POST", resourcePath: "/{proxy+}" },
    body: '{"test":"body"}',
    isBase64Encoded: false,
  },
};
