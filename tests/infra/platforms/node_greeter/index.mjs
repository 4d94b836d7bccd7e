// A Node.js handler for the serverless lab (lambda-api-svc 1.3 runs Node.js functions as packaged).
export const greet = async (event) => ({
  statusCode: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ greeting: "hello", path: event.rawPath ?? "/" }),
});
